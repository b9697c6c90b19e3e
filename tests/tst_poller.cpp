// Short and long polling against SseServer's /poll endpoint.

#include "core/net/deadlinequeue.h"
#include "core/sse/poller.h"
#include "core/sse/sseserver.h"
#include "tests/support/clientsupport.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

#include <numeric>

using namespace edgesse;
using namespace std::chrono_literals;
using http::ClientProtocol;

Q_DECLARE_METATYPE(http::ClientProtocol)

namespace {

void publish(sse::SseServer &server, std::uint64_t seq)
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.publishedAt = std::chrono::steady_clock::now();
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.type = "tick";
    e.event.data = "line one\nline two " + e.event.id;
    server.publish(e);
}

} // namespace

class TestPoller final : public QObject
{
    Q_OBJECT

private slots:
    void receivesEveryEventOnce_data();
    void receivesEveryEventOnce();
    void shortPollingKeepsItsRate();
    void longPollAnswersAtPublish();
    void retriesAfterErrors();
    void keptAliveConnectionClosedUnderARequest();
};

void TestPoller::receivesEveryEventOnce_data()
{
    QTest::addColumn<ClientProtocol>("protocol");
    QTest::addColumn<bool>("longPoll");
    QTest::newRow("short http1") << ClientProtocol::Http1 << false;
    QTest::newRow("short http2") << ClientProtocol::Http2 << false;
    QTest::newRow("long http1") << ClientProtocol::Http1 << true;
    QTest::newRow("long http2") << ClientProtocol::Http2 << true;
}

void TestPoller::receivesEveryEventOnce()
{
    QFETCH(ClientProtocol, protocol);
    QFETCH(bool, longPoll);
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY2(server.start(), qPrintable(server.errorString()));
    // Events published before the poller starts are not its business.
    publish(server, 1);
    publish(server, 2);

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Poller::Config config;
    config.port = server.port();
    config.protocol = protocol;
    config.longPoll = longPoll;
    config.interval = 20ms;
    sse::Poller poller(config, timers, &observer, 4);
    poller.start();
    QTRY_COMPARE_WITH_TIMEOUT(poller.lastSeq(), std::optional<std::uint64_t>(2), 5000);

    std::uint64_t seq = 2;
    QTimer publisher;
    connect(&publisher, &QTimer::timeout, this, [&] { if (seq < 60) publish(server, ++seq); });
    publisher.start(7);
    QTRY_COMPARE_WITH_TIMEOUT(poller.lastSeq(), std::optional<std::uint64_t>(60), 10'000);
    poller.stop();

    std::vector<std::uint64_t> expected(58);
    std::iota(expected.begin(), expected.end(), 3);
    QCOMPARE(observer.seqs(4), expected);
    QCOMPARE(observer.streams[4].events.back().data, QByteArray("line one\nline two 60"));
    QCOMPARE(observer.streams[4].events.back().type, QByteArray("tick"));
    QCOMPARE(observer.streams[4].firstEvents, 1);
    QCOMPARE(poller.failedPolls(), std::uint64_t(0));
    QCOMPARE(std::size_t(observer.streams[4].polls), std::size_t(poller.polls()));
    QCOMPARE(observer.streams[4].polledEvents, std::size_t(58));
    // Keep-alive: every poll went over the same connection.
    QCOMPARE(server.stats().connectionsTotal, qint64(1));
}

void TestPoller::shortPollingKeepsItsRate()
{
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Poller::Config config;
    config.port = server.port();
    config.interval = 50ms;
    sse::Poller poller(config, timers, &observer, 0);
    QElapsedTimer clock;
    clock.start();
    poller.start();
    QTRY_VERIFY_WITH_TIMEOUT(poller.polls() >= 11, 10'000);
    // 10 intervals after the first poll; generous bounds for a loaded machine.
    QVERIFY2(clock.elapsed() >= 480, qPrintable(QString::number(clock.elapsed())));
    QVERIFY2(clock.elapsed() < 3000, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(observer.streams[0].polledEvents, std::size_t(0));
}

void TestPoller::longPollAnswersAtPublish()
{
    sse::ServerSettings settings;
    settings.longPollTimeout = 10s;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Poller::Config config;
    config.port = server.port();
    config.longPoll = true;
    config.startAfter = 0;
    sse::Poller poller(config, timers, &observer, 0);
    poller.start();
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().longPollsWaiting, qint64(1), 5000);
    QCOMPARE(poller.polls(), std::uint64_t(0));
    publish(server, 1);
    QTRY_COMPARE_WITH_TIMEOUT(observer.eventCount(0), std::size_t(1), 5000);
    QCOMPARE(poller.polls(), std::uint64_t(1));
    // The next long poll is already waiting again.
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().longPollsWaiting, qint64(1), 5000);
}

void TestPoller::retriesAfterErrors()
{
    // A port nobody listens on: connect fails, the poller retries at its interval and
    // reports each failure, without crashing or giving up.
    QTcpServer placeholder;
    QVERIFY(placeholder.listen(QHostAddress::LocalHost));
    const quint16 port = placeholder.serverPort();
    placeholder.close();

    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Poller::Config config;
    config.port = port;
    config.interval = 20ms;
    config.retryAfterError = 20ms;
    sse::Poller poller(config, timers, &observer, 0);
    poller.start();
    QTRY_VERIFY_WITH_TIMEOUT(poller.failedPolls() >= 3, 10'000);
    QVERIFY(!poller.lastError().isEmpty());
    QVERIFY(observer.streams[0].disconnects.size() >= 3);
    QCOMPARE(observer.streams[0].disconnects.front().cause, sse::DisconnectCause::Error);
    QVERIFY(poller.isRunning());
}

void TestPoller::keptAliveConnectionClosedUnderARequest()
{
    // A server that answers one request a connection with keep-alive, then closes the
    // connection when the next request arrives: each such request goes again on a fresh
    // connection, as browsers do, and no poll fails.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    int connections = 0;
    std::uint64_t seq = 0;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *s = server.nextPendingConnection()) {
            ++connections;
            auto answered = std::make_shared<bool>(false);
            connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            connect(s, &QTcpSocket::readyRead, s, [&seq, s, answered] {
                if (!s->readAll().contains("\r\n\r\n"))
                    return;
                if (*answered) {
                    s->disconnectFromHost();
                    return;
                }
                *answered = true;
                const QByteArray body = "id: " + QByteArray::number(++seq) + "\ndata: x\n\n";
                s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nedgesse-last-id: 0\r\nContent-Length: " +
                         QByteArray::number(body.size()) + "\r\n\r\n" + body);
            });
        }
    });
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    sse::Poller::Config config;
    config.port = server.serverPort();
    config.interval = 10ms;
    config.startAfter = 0;
    sse::Poller poller(config, timers, &observer, 0);
    poller.start();
    QTRY_VERIFY_WITH_TIMEOUT(poller.polls() >= 5, 10'000);
    QCOMPARE(poller.failedPolls(), std::uint64_t(0));
    QVERIFY(observer.streams[0].disconnects.empty());
    QVERIFY(connections >= 5);
    std::vector<std::uint64_t> expected(observer.seqs(0).size());
    std::iota(expected.begin(), expected.end(), 1);
    QCOMPARE(observer.seqs(0), expected);
}

QTEST_GUILESS_MAIN(TestPoller)
#include "tst_poller.moc"
