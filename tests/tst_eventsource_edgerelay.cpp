// EdgeRelay between two SseServers: origin → relay (EventSource) → edge → browser.

#include "core/net/deadlinequeue.h"
#include "core/sse/browser.h"
#include "core/sse/edgerelay.h"
#include "core/sse/sseserver.h"
#include "tests/support/clientsupport.h"
#include "tests/support/serversupport.h"

#include <QTimer>
#include <QtTest>

#include <numeric>

using namespace edgesse;
using namespace std::chrono_literals;
using http::ClientProtocol;

Q_DECLARE_METATYPE(http::ClientProtocol)

namespace {

// The data of the event with id `id`.
QByteArray priceData(const QByteArray &id)
{
    return "{\"seq\":" + id + "}";
}

bool contiguous(const std::vector<std::uint64_t> &seqs)
{
    for (std::size_t i = 1; i < seqs.size(); ++i) {
        if (seqs[i] != seqs[i - 1] + 1)
            return false;
    }
    return true;
}

} // namespace

class TestEdgeRelay final : public QObject
{
    Q_OBJECT

private slots:
    void sharedUpstreamKeepsOriginalIds_data();
    void sharedUpstreamKeepsOriginalIds();
    void perClientUpstreamsFollowClients_data();
    void perClientUpstreamsFollowClients();
};

void TestEdgeRelay::sharedUpstreamKeepsOriginalIds_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::newRow("http1") << ClientProtocol::Http1;
    QTest::newRow("http2") << ClientProtocol::Http2;
}

void TestEdgeRelay::sharedUpstreamKeepsOriginalIds()
{
    QFETCH(ClientProtocol, protocol);
    sse::ServerSettings originSettings;
    originSettings.maxStreamDuration = 200ms; // the upstream is cut regularly ...
    originSettings.retry = 50ms;              // ... and resumes with Last-Event-ID
    sse::SseServer origin(originSettings);
    QVERIFY(origin.start());
    sse::ServerSettings edgeSettings;
    edgeSettings.role = sse::ServerRole::Edge;
    sse::SseServer edge(edgeSettings);
    QVERIFY(edge.start());

    net::DeadlineQueue timers;
    sse::EdgeRelay::Config relayConfig;
    relayConfig.upstreamPort = origin.port();
    relayConfig.protocol = protocol;
    sse::EdgeRelay relay(relayConfig, &edge, timers);
    relay.start();
    QTRY_COMPARE_WITH_TIMEOUT(relay.openUpstreams(), 1, 5000);

    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = edge.port();
    config.protocol = protocol;
    config.streams = 3;
    sse::Browser browser(config, timers, &observer);
    browser.open();
    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 3, 5000);

    testing::Publisher publisher(origin, 5ms, "price", priceData);
    QTRY_VERIFY_WITH_TIMEOUT(publisher.published() >= 150, 10'000);
    publisher.stop();
    const auto last = publisher.published();
    QTRY_COMPARE_WITH_TIMEOUT(relay.lastRelayedSeq(), last, 10'000);
    for (std::uint64_t tag = 0; tag < 3; ++tag) {
        QTRY_COMPARE_WITH_TIMEOUT(observer.lastSeq(tag), last, 5000);
        const auto seqs = observer.seqs(tag);
        QVERIFY2(contiguous(seqs), "every event once, in order, through upstream reconnects");
        QCOMPARE(observer.streams[tag].events.back().type, QByteArray("price"));
        QCOMPARE(observer.streams[tag].events.back().data, "{\"seq\":" + QByteArray::number(static_cast<qulonglong>(last)) + "}");
    }
    QVERIFY2(origin.stats().streamsEndedByMaxDuration >= 2, "the upstream was cut and resumed");
    QCOMPARE(origin.stats().eventsLostInGaps, qint64(0));
    QCOMPARE(relay.upstreamCount(), 1);
    browser.close();
    relay.stop();
}

void TestEdgeRelay::perClientUpstreamsFollowClients_data()
{
    QTest::addColumn<bool>("lanes");
    QTest::newRow("first copy to all") << false;
    QTest::newRow("a lane per client") << true;
}

void TestEdgeRelay::perClientUpstreamsFollowClients()
{
    QFETCH(bool, lanes);
    sse::SseServer origin(sse::ServerSettings{});
    QVERIFY(origin.start());
    sse::ServerSettings edgeSettings;
    edgeSettings.role = sse::ServerRole::Edge;
    edgeSettings.lanes = lanes;
    sse::SseServer edge(edgeSettings);
    QVERIFY(edge.start());

    net::DeadlineQueue timers;
    sse::EdgeRelay::Config relayConfig;
    relayConfig.upstreamPort = origin.port();
    relayConfig.perClient = true;
    relayConfig.followInterval = 20ms;
    sse::EdgeRelay relay(relayConfig, &edge, timers);
    relay.start();

    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = edge.port();
    config.protocol = ClientProtocol::Http2;
    config.streams = 4;
    sse::Browser browser(config, timers, &observer);
    browser.open();
    QTRY_COMPARE_WITH_TIMEOUT(relay.openUpstreams(), 4, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(origin.stats().streamsOpen, qint64(4), 5000);

    testing::Publisher publisher(origin, 5ms, "price", priceData);
    QTRY_VERIFY_WITH_TIMEOUT(publisher.published() >= 50, 10'000);
    publisher.stop();
    const auto last = publisher.published();
    QTRY_COMPARE_WITH_TIMEOUT(relay.lastRelayedSeq(), last, 10'000);
    for (std::uint64_t stream = 0; stream < 4; ++stream) {
        QTRY_COMPARE_WITH_TIMEOUT(observer.lastSeq(stream), last, 5000);
        QVERIFY(contiguous(observer.seqs(stream)));
    }
    if (lanes)
        QCOMPARE(edge.stats().lanesInUse, qint64(4));
    // Each event came up four times and went out once.
    QTRY_VERIFY_WITH_TIMEOUT(relay.duplicatesDropped() >= 3 * relay.eventsRelayed() - 6, 5000);

    // Clients leave: the upstreams follow them down (to one).
    browser.close();
    QTRY_COMPARE_WITH_TIMEOUT(relay.upstreamCount(), 1, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(origin.stats().streamsOpen, qint64(1), 5000);
    relay.stop();
}

QTEST_GUILESS_MAIN(TestEdgeRelay)
#include "tst_eventsource_edgerelay.moc"
