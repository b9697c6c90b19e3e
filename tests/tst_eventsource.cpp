// EventSource against scripted peers on real sockets: body framings a user's own origin
// may use, garbage (malformed status lines, bad chunk sizes, bad HTTP/2 frames), the
// reconnection schedule, disconnect causes, and descriptor hygiene.

#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/eventsource.h"
#include "tests/support/clientsupport.h"

#include <QDir>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

using namespace edgesse;
using namespace std::chrono_literals;
using http::ClientProtocol;

Q_DECLARE_METATYPE(http::ClientProtocol)
Q_DECLARE_METATYPE(sse::DisconnectCause)

namespace {

// Answers every connection with the same bytes once its request head (HTTP/1.1) or the
// client preface (HTTP/2) has arrived, then closes it (or keeps it open).
class ScriptedPeer final : public QObject
{
public:
    ScriptedPeer(QByteArray response, bool closeAfter, bool http2 = false)
        : m_response(std::move(response)), m_closeAfter(closeAfter), m_http2(http2)
    {
        m_server.listen(QHostAddress::LocalHost);
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *s = m_server.nextPendingConnection()) {
                ++connections;
                auto buffer = std::make_shared<std::optional<QByteArray>>(QByteArray());
                connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
                connect(s, &QTcpSocket::readyRead, s, [this, s, buffer] {
                    if (!*buffer) {
                        s->readAll(); // answered already
                        return;
                    }
                    (*buffer)->append(s->readAll());
                    const bool ready = m_http2 ? (*buffer)->size() >= 24 : (*buffer)->contains("\r\n\r\n");
                    if (!ready)
                        return;
                    requests << **buffer;
                    buffer->reset();
                    s->write(m_response);
                    if (m_closeAfter)
                        s->disconnectFromHost();
                });
            }
        });
    }
    quint16 port() const { return m_server.serverPort(); }
    int connections = 0;
    QByteArrayList requests;

private:
    QTcpServer m_server;
    QByteArray m_response;
    bool m_closeAfter;
    bool m_http2;
};

int openDescriptors()
{
    return static_cast<int>(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::NoDotAndDotDot | QDir::System).size());
}

struct Client {
    net::DeadlineQueue timers;
    testing::RecordingObserver observer;
    http::ConnectionPool pool;
    sse::EventSource source;
    Client(quint16 port, ClientProtocol protocol, sse::EventSourceConfig config)
        : pool({QStringLiteral("127.0.0.1"), port, protocol, 6, 1 << 20})
        , source(config, pool, timers, &observer, 0)
    {
    }
    testing::RecordingObserver::Stream &stream() { return observer.streams[0]; }
};

sse::EventSourceConfig fastRetry()
{
    sse::EventSourceConfig c;
    c.defaultRetry = 20ms;
    return c;
}

const QByteArray kEvents = "id: 1\ndata: one\n\nid: 2\ndata: two\n\n";

} // namespace

class TestEventSource final : public QObject
{
    Q_OBJECT

private slots:
    void bodyFramings_data();
    void bodyFramings();
    void garbageFromPeer_data();
    void garbageFromPeer();
    void badHttp2Frames_data();
    void badHttp2Frames();
    void backoffGrowsWithJitterAndIsSeeded();
    void causesFromHints();
    void goAwayMovesToANewConnection();
    void noDescriptorLeak();
};

void TestEventSource::bodyFramings_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::newRow("close-delimited") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + kEvents);
    QTest::newRow("http/1.0 close-delimited") << QByteArray("HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n" + kEvents);
    QTest::newRow("chunked, odd splits") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
                                                       "5\r\nid: 1\r\n3;ext=1\r\n\nda\r\n1A\r\nta: one\n\nid: 2\ndata: two\n\n\r\n0\r\n\r\n");
    QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: TEXT/EVENT-STREAM\r\nContent-Length: " +
                                                  QByteArray::number(kEvents.size()) + "\r\n\r\n" + kEvents);
    QTest::newRow("100 continue first") << QByteArray("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                                                      "Content-Length: " + QByteArray::number(kEvents.size()) + "\r\n\r\n" + kEvents);
}

void TestEventSource::bodyFramings()
{
    QFETCH(QByteArray, response);
    ScriptedPeer peer(response, true);
    sse::EventSourceConfig config = fastRetry();
    config.reconnect = false;
    Client c(peer.port(), ClientProtocol::Http1, config);
    c.source.open();
    QTRY_COMPARE_WITH_TIMEOUT(c.source.readyState(), sse::EventSource::ReadyState::Closed, 5000);
    QCOMPARE(c.observer.seqs(0), (std::vector<std::uint64_t>{1, 2}));
    QCOMPARE(c.stream().events[1].data, QByteArray("two"));
    QCOMPARE(c.stream().disconnects.size(), std::size_t(1));
    QCOMPARE(c.stream().disconnects[0].cause, sse::DisconnectCause::ServerClose);
    QVERIFY(peer.requests.front().startsWith("GET /events HTTP/1.1\r\n"));
    QVERIFY(peer.requests.front().contains("\r\nAccept: text/event-stream\r\n"));
}

void TestEventSource::garbageFromPeer_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("closeAfter");
    QTest::addColumn<sse::DisconnectCause>("cause");
    QTest::newRow("not http") << QByteArray("garbage garbage\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("bad status code") << QByteArray("HTTP/1.1 2x0 OK\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("bad version") << QByteArray("HTTP/9.x 200 OK\r\nContent-Type: text/event-stream\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("bad header line") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type text/event-stream\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("bad chunk size") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\ndata\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("chunk size overflow") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("bad content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: -4\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("huge header") << QByteArray("HTTP/1.1 200 OK\r\nX-Big: " + QByteArray(100'000, 'a') + "\r\n\r\n") << false << sse::DisconnectCause::Error;
    QTest::newRow("truncated head") << QByteArray("HTTP/1.1 200 OK\r\nContent-Ty") << true << sse::DisconnectCause::Error;
    QTest::newRow("truncated chunk") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n40\r\ndata: x") << true << sse::DisconnectCause::ServerClose;
    QTest::newRow("nothing") << QByteArray() << true << sse::DisconnectCause::Error;
}

void TestEventSource::garbageFromPeer()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, closeAfter);
    QFETCH(sse::DisconnectCause, cause);
    ScriptedPeer peer(response, closeAfter);
    Client c(peer.port(), ClientProtocol::Http1, fastRetry());
    c.source.open();
    // A clean error, then reconnection per the rules (a network error is not final).
    QTRY_VERIFY_WITH_TIMEOUT(peer.connections >= 3, 5000);
    QVERIFY(c.stream().disconnects.size() >= 2);
    for (const auto &d : c.stream().disconnects) {
        QCOMPARE(d.cause, cause);
        QVERIFY(d.willReconnect);
        QVERIFY2(!d.message.isEmpty(), "the error names its cause");
    }
    QCOMPARE(c.stream().events.size(), std::size_t(0));
    c.source.close();
}

void TestEventSource::badHttp2Frames_data()
{
    QTest::addColumn<QByteArray>("frames");
    // A frame header: 24-bit length, type, flags, 31-bit stream id.
    QTest::newRow("not a frame") << QByteArray("this is not HTTP/2 at all, no no no\r\n");
    QTest::newRow("data on stream 0") << QByteArray::fromHex("000000040000000000" "000004" "0000000000" "000005" "00" "01" "00000000" "68656c6c6f");
    QTest::newRow("oversized frame") << QByteArray::fromHex("ffffff0000000000000000");
    QTest::newRow("settings bad length") << QByteArray::fromHex("000005040000000000" "0003000000");
    QTest::newRow("headers garbage hpack") << QByteArray::fromHex("000000040000000000" "000004050000000001" "ffffffff");
}

void TestEventSource::badHttp2Frames()
{
    QFETCH(QByteArray, frames);
    ScriptedPeer peer(frames, false, true);
    Client c(peer.port(), ClientProtocol::Http2, fastRetry());
    c.source.open();
    QTRY_VERIFY_WITH_TIMEOUT(peer.connections >= 3, 5000);
    QVERIFY(!c.stream().disconnects.empty());
    for (const auto &d : c.stream().disconnects) {
        QCOMPARE(d.cause, sse::DisconnectCause::Error);
        QVERIFY(d.willReconnect);
        QVERIFY(!d.message.isEmpty());
    }
    c.source.close();
}

void TestEventSource::backoffGrowsWithJitterAndIsSeeded()
{
    QTcpServer placeholder;
    QVERIFY(placeholder.listen(QHostAddress::LocalHost));
    const quint16 port = placeholder.serverPort();
    placeholder.close(); // nobody listens: every attempt fails to connect

    sse::EventSourceConfig config;
    config.defaultRetry = 10ms;
    // A page's policy: 10 ms doubling to 80 ms, equal jitter (half fixed, half drawn).
    config.reconnectPolicy = sse::ReconnectPolicy{sse::ReconnectPolicy::Backoff::Exponential, std::nullopt, 80ms,
                                                  sse::ReconnectPolicy::Jitter::Equal};
    config.seed = 42;
    Client a(port, ClientProtocol::Http1, config);
    Client b(port, ClientProtocol::Http1, config);
    a.source.open();
    b.source.open();
    QTRY_VERIFY_WITH_TIMEOUT(a.stream().disconnects.size() >= 6 && b.stream().disconnects.size() >= 6, 10'000);
    const std::array<int, 6> base{10, 20, 40, 80, 80, 80};
    for (std::size_t i = 0; i < base.size(); ++i) {
        const auto delay = a.stream().disconnects[i].reconnectDelay;
        QCOMPARE(a.stream().disconnects[i].cause, sse::DisconnectCause::Error);
        QVERIFY2(delay >= std::chrono::milliseconds(base[i] / 2) && delay <= std::chrono::milliseconds(base[i]),
                 qPrintable(QStringLiteral("attempt %1 waited %2 ms").arg(i).arg(delay.count())));
        // Same seed, same stream tag: the same schedule.
        QCOMPARE(b.stream().disconnects[i].reconnectDelay, delay);
    }
}

void TestEventSource::causesFromHints()
{
    // One event, then silence, then the peer closes: with an idle hint below the silence
    // the end counts as an idle reap; with a max-duration hint, as max duration.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost));
    connect(&server, &QTcpServer::newConnection, this, [&server] {
        QTcpSocket *s = server.nextPendingConnection();
        connect(s, &QTcpSocket::readyRead, s, [s] {
            s->readAll();
            s->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\nid: 1\ndata: x\n\n");
            QTimer::singleShot(300, s, [s] { s->disconnectFromHost(); });
        });
        connect(s, &QTcpSocket::disconnected, s, &QObject::deleteLater);
    });
    {
        sse::EventSourceConfig config = fastRetry();
        config.reconnect = false;
        config.idleReapHint = 250ms;
        Client c(server.serverPort(), ClientProtocol::Http1, config);
        c.source.open();
        QTRY_COMPARE_WITH_TIMEOUT(c.stream().disconnects.size(), std::size_t(1), 5000);
        QCOMPARE(c.stream().disconnects[0].cause, sse::DisconnectCause::IdleReap);
        QVERIFY(c.stream().disconnects[0].sinceLastByte >= 250ms);
    }
    {
        sse::EventSourceConfig config = fastRetry();
        config.reconnect = false;
        config.maxDurationHint = 250ms;
        config.idleReapHint = 10s;
        Client c(server.serverPort(), ClientProtocol::Http1, config);
        c.source.open();
        QTRY_COMPARE_WITH_TIMEOUT(c.stream().disconnects.size(), std::size_t(1), 5000);
        QCOMPARE(c.stream().disconnects[0].cause, sse::DisconnectCause::MaxDuration);
    }
    {
        Client c(server.serverPort(), ClientProtocol::Http1, [] { auto x = fastRetry(); x.reconnect = false; return x; }());
        c.source.open();
        QTRY_COMPARE_WITH_TIMEOUT(c.stream().disconnects.size(), std::size_t(1), 5000);
        QCOMPARE(c.stream().disconnects[0].cause, sse::DisconnectCause::ServerClose);
    }
}

void TestEventSource::goAwayMovesToANewConnection()
{
    // Node's HTTP/2 server sends GOAWAY after 3 events and ends the stream; the stream
    // resumes with Last-Event-ID on a new connection.
    testing::NodePeer peer({QStringLiteral("--h2")});
    QVERIFY2(peer.port() != 0, qPrintable(peer.error()));
    sse::EventSourceConfig config = fastRetry();
    config.path = "/events?count=9&interval=5&goaway-after=3";
    Client c(peer.port(), ClientProtocol::Http2, config);
    c.source.open();
    QTRY_COMPARE_WITH_TIMEOUT(c.source.readyState(), sse::EventSource::ReadyState::Closed, 10'000);
    QCOMPARE(c.observer.seqs(0), (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    QVERIFY2(c.pool.connectionsOpened() >= 3, qPrintable(QString::number(c.pool.connectionsOpened())));
}

void TestEventSource::noDescriptorLeak()
{
    const int before = openDescriptors();
    {
        ScriptedPeer garbage("HTTP/1.1 2x0 nope\r\n\r\n", false);
        ScriptedPeer frames(QByteArray::fromHex("ffffff0000000000000000"), false, true);
        ScriptedPeer good("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n" + kEvents, true);
        Client a(garbage.port(), ClientProtocol::Http1, fastRetry());
        Client b(frames.port(), ClientProtocol::Http2, fastRetry());
        Client d(good.port(), ClientProtocol::Http1, fastRetry());
        a.source.open();
        b.source.open();
        d.source.open();
        QTRY_VERIFY_WITH_TIMEOUT(garbage.connections >= 20 && frames.connections >= 20 && good.connections >= 20, 20'000);
        a.source.close();
        b.source.close();
        d.source.close();
        QTest::qWait(50); // deleteLater of the last sockets
    }
    QTRY_VERIFY_WITH_TIMEOUT(openDescriptors() <= before, 5000);
}

QTEST_GUILESS_MAIN(TestEventSource)
#include "tst_eventsource.moc"
