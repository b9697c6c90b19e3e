// Our client against a server that is not ours: tests/peers/node-sse-server.mjs, written
// with Node's own http (chunked HTTP/1.1) and http2 (h2c) modules.

#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/browser.h"
#include "core/sse/eventsource.h"
#include "tests/support/clientsupport.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace edgesse;
using namespace std::chrono_literals;
using http::ClientProtocol;

Q_DECLARE_METATYPE(http::ClientProtocol)

namespace {

// A one-shot GET through our own client, for the peer's /log.
QJsonObject fetchJson(quint16 port, ClientProtocol protocol, const QByteArray &path)
{
    struct Collect final : http::ResponseHandler {
        QByteArray body;
        bool done = false;
        void responseHeadReceived(const http::ResponseHead &) override {}
        void responseDataReceived(const char *d, std::size_t n) override { body.append(d, static_cast<qsizetype>(n)); }
        void responseCompleted() override { done = true; }
        void responseFailed(http::ClientError, const QString &) override { done = true; }
    } collect;
    http::ConnectionPool pool({QStringLiteral("127.0.0.1"), port, protocol, 6, 1 << 20});
    http::ClientRequest request;
    request.path = path;
    request.authority = pool.authority();
    pool.submit(request, &collect);
    if (!QTest::qWaitFor([&] { return collect.done; }, 10'000))
        return {};
    return QJsonDocument::fromJson(collect.body).object();
}

} // namespace

class TestInteropClient final : public QObject
{
    Q_OBJECT

private slots:
    void readsEventsFromNode_data();
    void readsEventsFromNode();
    void resumesWithLastEventId_data();
    void resumesWithLastEventId();
    void failsForGoodOnNon200_data();
    void failsForGoodOnNon200();
    void browserOverNodeH2RespectsStreamLimit();
};

void TestInteropClient::readsEventsFromNode_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::newRow("http1 chunked") << ClientProtocol::Http1;
    QTest::newRow("h2c") << ClientProtocol::Http2;
}

void TestInteropClient::readsEventsFromNode()
{
    QFETCH(ClientProtocol, protocol);
    testing::NodePeer peer(protocol == ClientProtocol::Http2 ? QStringList{QStringLiteral("--h2")} : QStringList{});
    QVERIFY2(peer.port() != 0, qPrintable(peer.error()));

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    http::ConnectionPool pool({QStringLiteral("127.0.0.1"), peer.port(), protocol, 6, 1 << 20});
    sse::EventSourceConfig config;
    config.path = "/events?count=5&interval=5";
    config.defaultRetry = 50ms;
    sse::EventSource source(config, pool, timers, &observer, 7);
    source.open();

    // Five events, then the response ends; the reconnect gets 204 and the stream is over.
    QTRY_COMPARE_WITH_TIMEOUT(source.readyState(), sse::EventSource::ReadyState::Closed, 10'000);
    auto &s = observer.streams[7];
    QCOMPARE(s.events.size(), std::size_t(5));
    for (std::size_t i = 0; i < 5; ++i) {
        QCOMPARE(s.events[i].type, QByteArray("tick"));
        QCOMPARE(s.events[i].data, "event " + QByteArray::number(i + 1) + "\nsecond line");
        QCOMPARE(s.seqs[i], std::optional<std::uint64_t>(i + 1));
    }
    QCOMPARE(s.comments, 1);
    QCOMPARE(s.opened, 1);
    QCOMPARE(s.firstEvents, 1);
    QCOMPARE(s.disconnects.size(), std::size_t(2));
    QCOMPARE(s.disconnects[0].cause, sse::DisconnectCause::ServerClose);
    QVERIFY(s.disconnects[0].willReconnect);
    QCOMPARE(s.disconnects[1].cause, sse::DisconnectCause::Non200);
    QCOMPARE(s.disconnects[1].httpStatus, 204);
    QVERIFY(!s.disconnects[1].willReconnect);
    QCOMPARE(source.lastEventId(), QByteArray("5"));

    const QJsonArray ids = fetchJson(peer.port(), protocol, "/log").value(QStringLiteral("lastEventIds")).toArray();
    QCOMPARE(ids.size(), 2);
    QVERIFY(ids[0].isNull());
    QCOMPARE(ids[1].toString(), QStringLiteral("5"));
}

void TestInteropClient::resumesWithLastEventId_data()
{
    readsEventsFromNode_data();
}

void TestInteropClient::resumesWithLastEventId()
{
    QFETCH(ClientProtocol, protocol);
    testing::NodePeer peer(protocol == ClientProtocol::Http2 ? QStringList{QStringLiteral("--h2")} : QStringList{});
    QVERIFY2(peer.port() != 0, qPrintable(peer.error()));

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    http::ConnectionPool pool({QStringLiteral("127.0.0.1"), peer.port(), protocol, 6, 1 << 20});
    sse::EventSourceConfig config;
    // The server closes after every 3 events and asks for a 20 ms reconnection time.
    config.path = "/events?count=12&interval=2&close-after=3&retry=20";
    config.lastEventId = "0";
    config.reconnectPolicy = sse::ReconnectPolicy{sse::ReconnectPolicy::Backoff::None, std::nullopt, 30'000ms,
                                                  sse::ReconnectPolicy::Jitter::Equal};
    sse::EventSource source(config, pool, timers, &observer, 1);
    source.open();
    QTRY_COMPARE_WITH_TIMEOUT(source.readyState(), sse::EventSource::ReadyState::Closed, 10'000);

    QCOMPARE(source.reconnectionTime(), 20ms);
    std::vector<std::uint64_t> expected;
    for (std::uint64_t i = 1; i <= 12; ++i)
        expected.push_back(i);
    QCOMPARE(observer.seqs(1), expected);
    QCOMPARE(source.reconnects(), 4u);
    const auto &d = observer.streams[1].disconnects;
    QCOMPARE(d.size(), std::size_t(5));
    for (std::size_t i = 0; i < 4; ++i) {
        QVERIFY(d[i].willReconnect);
        // retry 20 ms, equal jitter: 10 ms fixed and up to 10 ms drawn
        QVERIFY2(d[i].reconnectDelay >= 10ms && d[i].reconnectDelay <= 20ms, qPrintable(QString::number(d[i].reconnectDelay.count())));
    }
    const QJsonArray ids = fetchJson(peer.port(), protocol, "/log").value(QStringLiteral("lastEventIds")).toArray();
    QStringList got;
    for (const auto &v : ids)
        got << v.toString();
    QCOMPARE(got, (QStringList{QStringLiteral("0"), QStringLiteral("3"), QStringLiteral("6"), QStringLiteral("9"), QStringLiteral("12")}));
}

void TestInteropClient::failsForGoodOnNon200_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::addColumn<QByteArray>("path");
    QTest::addColumn<int>("status");
    for (auto [name, p] : {std::pair{"h1", ClientProtocol::Http1}, std::pair{"h2", ClientProtocol::Http2}}) {
        QTest::addRow("%s 500", name) << p << QByteArray("/status/500") << 500;
        QTest::addRow("%s 503", name) << p << QByteArray("/status/503") << 503;
        QTest::addRow("%s 204", name) << p << QByteArray("/status/204") << 204;
        QTest::addRow("%s 404", name) << p << QByteArray("/nothing-here") << 404;
        QTest::addRow("%s wrong type", name) << p << QByteArray("/wrong-type") << 200;
    }
}

void TestInteropClient::failsForGoodOnNon200()
{
    QFETCH(ClientProtocol, protocol);
    QFETCH(QByteArray, path);
    QFETCH(int, status);
    testing::NodePeer peer(protocol == ClientProtocol::Http2 ? QStringList{QStringLiteral("--h2")} : QStringList{});
    QVERIFY2(peer.port() != 0, qPrintable(peer.error()));

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    http::ConnectionPool pool({QStringLiteral("127.0.0.1"), peer.port(), protocol, 6, 1 << 20});
    sse::EventSourceConfig config;
    config.path = path;
    config.defaultRetry = 10ms;
    sse::EventSource source(config, pool, timers, &observer, 3);
    source.open();
    QTRY_COMPARE_WITH_TIMEOUT(observer.streams[3].disconnects.size(), std::size_t(1), 10'000);
    QCOMPARE(source.readyState(), sse::EventSource::ReadyState::Closed);
    const auto d = observer.streams[3].disconnects.front();
    QCOMPARE(d.cause, sse::DisconnectCause::Non200);
    QCOMPARE(d.httpStatus, status);
    QVERIFY(!d.willReconnect);
    QVERIFY(!d.message.isEmpty());
    // No reconnect follows, even after several retry periods.
    QTest::qWait(100);
    QCOMPARE(observer.streams[3].disconnects.size(), std::size_t(1));
    QCOMPARE(observer.streams[3].connects.size(), std::size_t(1));
}

void TestInteropClient::browserOverNodeH2RespectsStreamLimit()
{
    testing::NodePeer peer({QStringLiteral("--h2"), QStringLiteral("--max-streams"), QStringLiteral("5")});
    QVERIFY2(peer.port() != 0, qPrintable(peer.error()));
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = peer.port();
    config.protocol = ClientProtocol::Http2;
    config.streams = 8;
    config.stream.path = "/events?interval=20";
    sse::Browser browser(config, timers, &observer);
    browser.open();
    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 5, 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(observer.eventCount(0) >= 3, 10'000);
    QCOMPARE(browser.starvedCount(), 3);
    QCOMPARE(browser.pool().connectionCount(), 1);
    // Closing two streams lets two of the starved ones in, on the same connection.
    browser.stream(0).close();
    browser.stream(1).close();
    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 5, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(browser.starvedCount(), 1, 10'000);
    QCOMPARE(browser.pool().connectionCount(), 1);
    QCOMPARE(browser.pool().connectionsOpened(), std::uint64_t(1));
    browser.close();
}

QTEST_GUILESS_MAIN(TestInteropClient)
#include "tst_interop_client.moc"
