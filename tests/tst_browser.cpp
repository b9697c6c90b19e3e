// The browser model and replay against our own SseServer: 6 connections per origin on
// HTTP/1.1, one multiplexed connection on HTTP/2, and Last-Event-ID resumption after
// forced reconnects, exactly once when the replay buffer holds the gap, loss otherwise.

#include "core/link/linkproxy.h"
#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/browser.h"
#include "core/sse/sseserver.h"
#include "tests/support/clientsupport.h"
#include "tests/support/serversupport.h"

#include <QTimer>
#include <QtTest>

#include <algorithm>
#include <numeric>

using namespace edgesse;
using namespace std::chrono_literals;
using http::ClientProtocol;

Q_DECLARE_METATYPE(http::ClientProtocol)

using testing::Publisher;
using testing::startServer;

class TestBrowser final : public QObject
{
    Q_OBJECT

private slots:
    void http1HasSixDeliveringAndTwoStarved();
    void http2HasEightDeliveringOverOneConnection();
    void replayAfterForcedReconnect_data();
    void replayAfterForcedReconnect();
    void lossCountedWhenReplayBufferIsShort();
    void http2FlowControlReopensWindows();
    void connectionCapAnswers503_data();
    void connectionCapAnswers503();
};

void TestBrowser::http1HasSixDeliveringAndTwoStarved()
{
    sse::ServerSettings settings;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    Publisher publisher(*server, 10ms);

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = server->port();
    config.protocol = ClientProtocol::Http1;
    config.streams = 8;
    sse::Browser browser(config, timers, &observer);
    browser.open();

    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 6, 10'000);
    QCOMPARE(browser.starvedCount(), 2);
    QCOMPARE(browser.pool().connectionCount(), 6);
    // The six deliver; the two starved get nothing however long they wait.
    QTRY_VERIFY_WITH_TIMEOUT(observer.eventCount(5) >= 5, 10'000);
    int delivering = 0, starved = 0;
    for (std::uint64_t tag = 0; tag < 8; ++tag) {
        if (observer.eventCount(tag) > 0)
            ++delivering;
        if (observer.streams[tag].starved > 0 && observer.eventCount(tag) == 0)
            ++starved;
    }
    QCOMPARE(delivering, 6);
    QCOMPARE(starved, 2);
    QTRY_COMPARE_WITH_TIMEOUT(server->stats().streamsOpen, qint64(6), 5000);

    // One stream closes: its connection is torn down (a response cannot be abandoned on
    // HTTP/1.1), a new one opens and the first starved stream starts delivering.
    browser.stream(0).close();
    QTRY_COMPARE_WITH_TIMEOUT(browser.starvedCount(), 1, 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 6, 10'000);
    const auto &connects = observer.streams[6].connects.empty() ? observer.streams[7].connects : observer.streams[6].connects;
    QCOMPARE(connects.size(), std::size_t(1));
    QVERIFY(connects.front().starvedFor > 0us);
    browser.close();
}

void TestBrowser::http2HasEightDeliveringOverOneConnection()
{
    sse::ServerSettings settings;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    Publisher publisher(*server, 10ms);

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = server->port();
    config.protocol = ClientProtocol::Http2;
    config.streams = 8;
    sse::Browser browser(config, timers, &observer);
    browser.open();

    QTRY_COMPARE_WITH_TIMEOUT(browser.openCount(), 8, 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(observer.streams.begin(), observer.streams.end(),
                                         [](const auto &s) { return s.second.events.size() >= 5; }) &&
                                 observer.streams.size() == 8,
                             10'000);
    QCOMPARE(browser.starvedCount(), 0);
    QCOMPARE(browser.pool().connectionCount(), 1);
    QCOMPARE(browser.pool().connectionsOpened(), std::uint64_t(1));
    QCOMPARE(server->stats().connectionsTotal, qint64(1));
    QCOMPARE(server->stats().http2Connections, qint64(1));
    int reused = 0;
    for (auto &[tag, s] : observer.streams)
        reused += s.connects.front().reusedConnection ? 1 : 0;
    QVERIFY2(reused >= 6, qPrintable(QString::number(reused)));
    browser.close();
}

void TestBrowser::replayAfterForcedReconnect_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::newRow("http1") << ClientProtocol::Http1;
    QTest::newRow("http2") << ClientProtocol::Http2;
}

void TestBrowser::replayAfterForcedReconnect()
{
    QFETCH(ClientProtocol, protocol);
    sse::ServerSettings settings;
    settings.maxStreamDuration = 150ms;  // forces a reconnect every 150 ms
    settings.retry = 60ms;               // events published while away: about 6 each time
    settings.replayCapacity = 1000;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    Publisher publisher(*server, 10ms);

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = server->port();
    config.protocol = protocol;
    config.streams = 2;
    sse::Browser browser(config, timers, &observer);
    browser.open();

    QTRY_VERIFY_WITH_TIMEOUT(browser.stream(0).reconnects() >= 4 && browser.stream(1).reconnects() >= 4, 15'000);
    publisher.stop();
    const std::uint64_t last = publisher.published();
    const auto reached = [&](std::uint64_t tag) {
        const auto &events = observer.streams[tag].seqs;
        return !events.empty() && events.back().value_or(0) == last;
    };
    QTRY_VERIFY_WITH_TIMEOUT(reached(0) && reached(1), 10'000);
    for (std::uint64_t tag : {0u, 1u}) {
        const auto seqs = observer.seqs(tag);
        // Once, in order, no gap: from the first event the stream saw to the last published.
        std::vector<std::uint64_t> expected(seqs.size());
        std::iota(expected.begin(), expected.end(), seqs.front());
        QCOMPARE(seqs, expected);
        for (const auto &d : observer.streams[tag].disconnects) {
            QCOMPARE(d.cause, sse::DisconnectCause::ServerClose);
            QVERIFY(d.willReconnect);
            QCOMPARE(d.reconnectDelay, 60ms); // a browser waits exactly `retry`
        }
    }
    QVERIFY(server->stats().replaysComplete >= 8);
    QCOMPARE(server->stats().eventsLostInGaps, qint64(0));
    browser.close();
}

void TestBrowser::lossCountedWhenReplayBufferIsShort()
{
    sse::ServerSettings settings;
    settings.maxStreamDuration = 100ms;
    settings.retry = 100ms;        // about 10 events published while away ...
    settings.replayCapacity = 3;   // ... and only 3 kept
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    Publisher publisher(*server, 10ms);

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Browser::Config config;
    config.port = server->port();
    config.streams = 1;
    sse::Browser browser(config, timers, &observer);
    browser.open();
    QTRY_VERIFY_WITH_TIMEOUT(browser.stream(0).reconnects() >= 3, 15'000);
    browser.close();
    publisher.stop();

    const auto seqs = observer.seqs(0);
    QVERIFY(std::is_sorted(seqs.begin(), seqs.end()));
    QVERIFY(std::adjacent_find(seqs.begin(), seqs.end()) == seqs.end()); // no duplicate
    const std::uint64_t missing = seqs.back() - seqs.front() + 1 - seqs.size();
    QVERIFY2(missing > 0, "the gaps exceed the replay buffer, so events must be missing");
    // The client's count of missing sequence numbers is the server's count of events lost
    // in gaps (each reconnect told the server where the stream was).
    QCOMPARE(qint64(missing), server->stats().eventsLostInGaps);
    QVERIFY(server->stats().replaysWithGap >= 1);
}

void TestBrowser::http2FlowControlReopensWindows()
{
    // 2.8 MB through a 64 KB window: delivery only completes if every DATA frame taken is
    // acknowledged (WINDOW_UPDATE for the stream and the connection).
    sse::ServerSettings settings;
    settings.replayCapacity = 10;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    http::ConnectionPool pool({QStringLiteral("127.0.0.1"), server->port(), ClientProtocol::Http2, 6, 64 * 1024});
    sse::EventSource source(sse::EventSourceConfig{}, pool, timers, &observer, 0);
    source.open();
    QTRY_COMPARE_WITH_TIMEOUT(source.readyState(), sse::EventSource::ReadyState::Open, 5000);
    const QByteArray payload(4096, 'p');
    for (std::uint64_t seq = 1; seq <= 700; ++seq) {
        sse::PublishedEvent e;
        e.seq = seq;
        e.publishedAt = std::chrono::steady_clock::now();
        e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
        e.event.data = payload;
        server->publish(e);
    }
    QTRY_COMPARE_WITH_TIMEOUT(observer.lastSeq(0), std::uint64_t(700), 20'000);
    QCOMPARE(observer.eventCount(0), std::size_t(700));
    QVERIFY(observer.streams[0].bytes > 2'800'000);
    QCOMPARE(server->stats().slowConsumersDropped, qint64(0));
}

void TestBrowser::connectionCapAnswers503_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::addColumn<bool>("throughLink");
    QTest::newRow("http1") << ClientProtocol::Http1 << false;
    QTest::newRow("http2") << ClientProtocol::Http2 << false;
    QTest::newRow("http1 through a link") << ClientProtocol::Http1 << true;
    QTest::newRow("http2 through a link") << ClientProtocol::Http2 << true;
}

void TestBrowser::connectionCapAnswers503()
{
    // Six browsers of one stream each against a server capped at three connections: three
    // stream, three are answered 503 and — as in a browser — do not reconnect by themselves.
    QFETCH(ClientProtocol, protocol);
    QFETCH(bool, throughLink);
    sse::ServerSettings settings;
    settings.http.maxConnections = 3;
    auto server = startServer(settings);
    QVERIFY(server->isRunning());
    Publisher publisher(*server, 10ms);

    net::DeadlineQueue timers;
    link::LinkSettings linkSettings;
    linkSettings.latency = 5ms;
    link::LinkProxy proxy(linkSettings, QHostAddress::LocalHost, server->port(), timers);
    QVERIFY(proxy.listen());
    testing::RecordingObserver observer;
    std::vector<std::unique_ptr<sse::Browser>> browsers;
    for (int i = 0; i < 6; ++i) {
        sse::Browser::Config config;
        config.port = throughLink ? proxy.port() : server->port();
        config.protocol = protocol;
        config.firstStreamTag = std::uint64_t(i);
        browsers.push_back(std::make_unique<sse::Browser>(config, timers, &observer));
        browsers.back()->open();
        // One at a time, so the server sees the connections in order.
        QTRY_VERIFY_WITH_TIMEOUT(browsers.back()->stream(0).readyState() != sse::EventSource::ReadyState::Connecting, 5000);
    }
    for (int i = 0; i < 6; ++i) {
        const auto &s = observer.streams[std::uint64_t(i)];
        if (i < 3) {
            QCOMPARE(browsers[std::size_t(i)]->openCount(), 1);
            QVERIFY(s.disconnects.empty());
        } else {
            QCOMPARE(browsers[std::size_t(i)]->stream(0).readyState(), sse::EventSource::ReadyState::Closed);
            QCOMPARE(s.disconnects.size(), std::size_t(1));
            QCOMPARE(s.disconnects[0].cause, sse::DisconnectCause::Non200);
            QCOMPARE(s.disconnects[0].httpStatus, 503);
            QVERIFY(!s.disconnects[0].willReconnect);
        }
    }
    QVERIFY(server->stats().connectionsRejected >= 3);
}

QTEST_GUILESS_MAIN(TestBrowser)
#include "tst_browser.moc"
