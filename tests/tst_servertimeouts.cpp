// Connections that never complete a request, and keep-alive connections left idle, are
// closed after the server's own timeouts — each tried with the others set to an hour, so
// only the one under test can end the connection.
#include "core/scenario/scenario.h"
#include "core/sim/topologyparts.h"
#include "core/sse/sseserver.h"
#include "tests/support/h2frames.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

enum class Peer {
    Silent,           // connects and sends nothing
    Http2PrefaceOnly, // the connection preface and SETTINGS, then nothing
    Http2SlowHeaders, // the first HEADERS frame one byte every 50 ms
    Http1IdleAfterPoll,
    Http2IdleAfterPoll,
};

enum class Timeout { Request, Idle };

QByteArray slowHeaders()
{
    QByteArray block("\x82\x86\x41\x01\x61\x04\x07/events", 14);
    block += QByteArray("\x00\x06x-slow\x7f\x81\x01", 11) + QByteArray(128 + 1, 'a'); // a 257-byte value
    return testing::h2Frame(0x1, 0x5, 1, block);
}

// A HEADERS frame for `stream` among the frames a server sent after its preface.
bool hasResponseHeaders(const QByteArray &in, quint32 stream)
{
    qsizetype pos = 0;
    while (pos + 9 <= in.size()) {
        const auto *p = reinterpret_cast<const uchar *>(in.constData() + pos);
        const qsizetype length = (p[0] << 16) | (p[1] << 8) | p[2];
        const quint32 id = (quint32(p[5] & 0x7f) << 24) | (quint32(p[6]) << 16) | (quint32(p[7]) << 8) | p[8];
        if (p[3] == 0x1 && id == stream)
            return true;
        pos += 9 + length;
    }
    return false;
}

} // namespace

Q_DECLARE_METATYPE(Peer)
Q_DECLARE_METATYPE(Timeout)

class TestServerTimeouts final : public QObject
{
    Q_OBJECT

private slots:
    void closedAfterItsTimeout_data();
    void closedAfterItsTimeout();
    void topologyServersUseBoundedTimeouts();
};

void TestServerTimeouts::closedAfterItsTimeout_data()
{
    QTest::addColumn<Peer>("peer");
    QTest::addColumn<Timeout>("timeout");

    QTest::newRow("TCP connection sending nothing") << Peer::Silent << Timeout::Request;
    QTest::newRow("HTTP/2 preface only") << Peer::Http2PrefaceOnly << Timeout::Request;
    QTest::newRow("HTTP/2 first HEADERS byte by byte") << Peer::Http2SlowHeaders << Timeout::Request;
    QTest::newRow("HTTP/1.1 keep-alive idle after /poll") << Peer::Http1IdleAfterPoll << Timeout::Idle;
    QTest::newRow("HTTP/2 idle after /poll") << Peer::Http2IdleAfterPoll << Timeout::Idle;
}

void TestServerTimeouts::closedAfterItsTimeout()
{
    QFETCH(Peer, peer);
    QFETCH(Timeout, timeout);
    constexpr auto kShort = 300ms;
    sse::ServerSettings settings;
    settings.http.requestTimeout = timeout == Timeout::Request ? kShort : 1h;
    settings.http.headerTimeout = 1h;
    settings.http.idleTimeout = timeout == Timeout::Idle ? kShort : 1h;
    sse::SseServer server(settings);
    QVERIFY(server.start());

    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(socket.waitForConnected(5000));
    QByteArray in;
    const QByteArray h2Start = testing::kH2Preface + testing::h2InitialWindow(65535);
    switch (peer) {
    case Peer::Silent:
        break;
    case Peer::Http2PrefaceOnly:
        socket.write(h2Start);
        break;
    case Peer::Http2SlowHeaders:
        socket.write(h2Start);
        break;
    case Peer::Http1IdleAfterPoll:
        socket.write("GET /poll HTTP/1.1\r\nHost: a\r\n\r\n");
        QTRY_VERIFY((in += socket.readAll()).contains("edgesse-last-id"));
        break;
    case Peer::Http2IdleAfterPoll:
        socket.write(h2Start + testing::h2Get(1, "/poll"));
        QTRY_VERIFY(hasResponseHeaders(in += socket.readAll(), 1));
        break;
    }
    QElapsedTimer waited;
    waited.start();
    const QByteArray headers = slowHeaders();
    qsizetype sent = 0;
    QTimer trickle;
    connect(&trickle, &QTimer::timeout, &socket, [&] {
        if (sent < headers.size() && socket.state() == QAbstractSocket::ConnectedState)
            socket.write(headers.mid(sent++, 1));
    });
    if (peer == Peer::Http2SlowHeaders)
        trickle.start(50); // 300 bytes: 15 s to send them all
    QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 8000);
    QVERIFY2(waited.elapsed() >= 250, qPrintable(QString::number(waited.elapsed())));
    QVERIFY(sent < headers.size());
    const sse::ServerStats stats = server.stats();
    QCOMPARE(stats.requestTimeouts, qint64(timeout == Timeout::Request ? 1 : 0));
    QCOMPARE(stats.idleTimeouts, qint64(timeout == Timeout::Idle ? 1 : 0));
    QCOMPARE(stats.headerTimeouts, qint64{0});
    QTRY_COMPARE(server.stats().connectionsOpen, qint64{0});
}

void TestServerTimeouts::topologyServersUseBoundedTimeouts()
{
    // The defaults (10 s for a first request or a head, 60 s idle), the idle one stretched to
    // twice a long retry so a browser reconnecting after it finds its connection.
    scenario::Node node;
    scenario::SseSettings sse;
    sse.retry = 3s;
    http::ServerLimits limits = sim::serverSettings(node, sse).http;
    QCOMPARE(limits.requestTimeout, std::chrono::milliseconds(10s));
    QCOMPARE(limits.headerTimeout, std::chrono::milliseconds(10s));
    QCOMPARE(limits.idleTimeout, std::chrono::milliseconds(60s));
    sse.retry = 45s;
    limits = sim::serverSettings(node, sse).http;
    QCOMPARE(limits.idleTimeout, std::chrono::milliseconds(90s));
}

QTEST_GUILESS_MAIN(TestServerTimeouts)
#include "tst_servertimeouts.moc"
