// Why a stream through a link ended, as the browser names it: the server's orderly close
// (FIN) arrives as a FIN and is `server_close`; the server's reset (RST) arrives as a reset
// and is `error` — through both forwarders (copy when the link delays, splice when it does
// not), and after the event the server sent before it.
//
// A RST travels the path behind the bytes sent before it, as on any in-order path: a server
// that writes and resets at once has its bytes delivered, all of them, and the client's
// recv() then fails with ECONNRESET one trip (and the bytes' serialisation) after the reset.

#include "core/http/connectionpool.h"
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/eventsource.h"
#include "tests/support/clientsupport.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include "tests/support/loopback.h"

#include <atomic>
#include <thread>

#include <sys/socket.h>

using namespace edgesse;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(sse::DisconnectCause)

namespace {

// Answers the request head with an event stream and one event; once the client has had
// time to read it, ends the connection with a FIN or, with SO_LINGER 0, a RST.
class EndingPeer final : public QObject
{
public:
    explicit EndingPeer(bool reset) : m_reset(reset)
    {
        m_server.listen(QHostAddress::LocalHost);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                connect(s, &QTcpSocket::readyRead, s, [this, s] { answer(s); });
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }

private:
    void answer(QTcpSocket *s)
    {
        m_request += s->readAll();
        if (!m_request.contains("\r\n\r\n") || m_answered)
            return;
        m_answered = true;
        s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\nid: 1\ndata: one\n\n");
        s->flush();
        QTimer::singleShot(300, s, [this, s] {
            if (!m_reset) {
                s->disconnectFromHost();
                return;
            }
            const linger abortive{1, 0};
            ::setsockopt(int(s->socketDescriptor()), SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
            s->abort();
            s->deleteLater();
        });
    }

    QTcpServer m_server;
    QByteArray m_request;
    bool m_reset;
    bool m_answered = false;
};

using Clock = std::chrono::steady_clock;

// Accepts one connection, writes `bytes` at once and resets it (SO_LINGER 0) right after.
void writeAndReset(int listener, std::size_t bytes, Clock::time_point &resetAt)
{
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0)
        return;
    const std::string payload(bytes, 'x');
    std::size_t sent = 0;
    while (sent < bytes) {
        const ssize_t n = ::send(fd, payload.data() + sent, bytes - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        sent += std::size_t(n);
    }
    resetAt = Clock::now();
    const linger abortive{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    ::close(fd);
}

struct ClientOutcome {
    std::size_t received = 0;
    int error = 0; // errno of the read that ended the stream, 0 at a FIN
    Clock::time_point endedAt{};
};

// Connects to `port` and reads until the stream ends.
void readToEnd(quint16 port, ClientOutcome &outcome)
{
    const int fd = testing::connectLoopback(port);
    if (fd < 0) {
        outcome.error = errno;
        return;
    }
    char buffer[16384];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            outcome.received += std::size_t(n);
            continue;
        }
        outcome.error = n < 0 ? errno : 0;
        outcome.endedAt = Clock::now();
        break;
    }
    ::close(fd);
}

} // namespace

class TestLinkCauses final : public QObject
{
    Q_OBJECT

private slots:
    void serverEndThroughALink_data()
    {
        QTest::addColumn<bool>("reset");
        QTest::addColumn<int>("latencyMs");
        QTest::addColumn<sse::DisconnectCause>("cause");
        QTest::newRow("FIN, copy (20 ms)") << false << 20 << sse::DisconnectCause::ServerClose;
        QTest::newRow("FIN, splice (0 ms)") << false << 0 << sse::DisconnectCause::ServerClose;
        QTest::newRow("RST, copy (20 ms)") << true << 20 << sse::DisconnectCause::Error;
        QTest::newRow("RST, splice (0 ms)") << true << 0 << sse::DisconnectCause::Error;
    }

    void serverEndThroughALink()
    {
        QFETCH(bool, reset);
        QFETCH(int, latencyMs);
        QFETCH(sse::DisconnectCause, cause);
        EndingPeer peer(reset);
        net::DeadlineQueue timers;
        link::LinkSettings settings;
        settings.latency = std::chrono::milliseconds(latencyMs);
        link::LinkProxy proxy(settings, QHostAddress::LocalHost, peer.port(), timers);
        QVERIFY2(proxy.listen(), qPrintable(proxy.errorString()));
        testing::RecordingObserver observer;
        http::ConnectionPool pool({QStringLiteral("127.0.0.1"), proxy.port(), http::ClientProtocol::Http1, 6, 1 << 20});
        sse::EventSourceConfig config;
        config.reconnect = false;
        sse::EventSource source(config, pool, timers, &observer, 0);
        source.open();
        QTRY_COMPARE_WITH_TIMEOUT(observer.streams[0].disconnects.size(), std::size_t(1), 5000);
        const sse::Disconnect &d = observer.streams[0].disconnects.front();
        QCOMPARE(observer.eventCount(0), std::size_t(1)); // the event before the end got through
        QVERIFY2(d.cause == cause, sse::disconnectCauseName(d.cause));
        // The link saw it the same way: a reset is counted as one, a FIN is not.
        QTRY_COMPARE_WITH_TIMEOUT(proxy.openConnections(), std::size_t(0), 2000);
        QCOMPARE(proxy.snapshot().resets, reset ? std::uint64_t(1) : std::uint64_t(0));
    }

    void resetArrivesBehindTheBytesBeforeIt_data()
    {
        QTest::addColumn<int>("latencyMs");
        QTest::addColumn<int>("bandwidthMbps"); // 0: unlimited
        QTest::addColumn<int>("bytes");
        QTest::newRow("splice (0 ms)") << 0 << 0 << 32768;
        QTest::newRow("copy (100 ms)") << 100 << 0 << 32768;
        QTest::newRow("copy (20 ms, 10 Mbit/s)") << 20 << 10 << 32768;
    }

    void resetArrivesBehindTheBytesBeforeIt()
    {
        QFETCH(int, latencyMs);
        QFETCH(int, bandwidthMbps);
        QFETCH(int, bytes);
        quint16 targetPort = 0;
        const int listener = testing::listenLoopback(targetPort);
        QVERIFY(listener >= 0);
        net::DeadlineQueue timers;
        link::LinkSettings settings;
        settings.latency = std::chrono::milliseconds(latencyMs);
        settings.bandwidthBitsPerSecond = std::uint64_t(bandwidthMbps) * 1'000'000;
        link::LinkProxy proxy(settings, QHostAddress::LocalHost, targetPort, timers);
        QVERIFY2(proxy.listen(), qPrintable(proxy.errorString()));

        Clock::time_point resetAt{};
        ClientOutcome outcome;
        std::atomic<bool> done{false};
        std::thread server([&] { writeAndReset(listener, std::size_t(bytes), resetAt); });
        std::thread client([&, port = proxy.port()] {
            readToEnd(port, outcome);
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done.load(), 10000);
        client.join();
        server.join();
        ::close(listener);

        QCOMPARE(outcome.received, std::size_t(bytes)); // every byte sent before the RST
        QCOMPARE(outcome.error, ECONNRESET);            // then the RST itself
        // It left the server behind the bytes' serialisation and crossed the link once.
        const double serialisationMs = bandwidthMbps > 0 ? bytes * 8.0 / (bandwidthMbps * 1e3) : 0.0;
        const double expectedMs = latencyMs + serialisationMs;
        const double afterMs = std::chrono::duration<double, std::milli>(outcome.endedAt - resetAt).count();
        qInfo("%d bytes, then ECONNRESET %.2f ms after the server's reset (expected %.2f ms)", int(outcome.received), afterMs, expectedMs);
        QVERIFY2(afterMs >= expectedMs - 2.0 && afterMs <= expectedMs + 150.0,
                 qPrintable(QStringLiteral("RST after %1 ms, expected %2 ms").arg(afterMs).arg(expectedMs)));
        QTRY_COMPARE_WITH_TIMEOUT(proxy.openConnections(), std::size_t(0), 2000);
        QCOMPARE(proxy.snapshot().resets, std::uint64_t(1));
        QCOMPARE(proxy.snapshot().bufferedBytes, std::uint64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestLinkCauses)
#include "tst_linkcauses.moc"
