// The HTTP server under garbage, limits and slow peers: every case ends with a clean error,
// a closed connection and no descriptor left behind.
#include "core/sse/sseserver.h"

#include <QDir>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTest>
#include <QTimer>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

int openDescriptors()
{
    return static_cast<int>(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::Files | QDir::System).size());
}

// Sends `bytes`, then reads until the server closes (or `ms` pass). Returns what arrived.
QByteArray exchange(quint16 port, const QByteArray &bytes, bool *closed, int ms = 5000)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(bytes);
    socket.flush();
    QByteArray in;
    QElapsedTimer t;
    t.start();
    while (socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < ms) {
        socket.waitForReadyRead(50);
        in += socket.readAll();
    }
    in += socket.readAll();
    *closed = socket.state() != QAbstractSocket::ConnectedState;
    return in;
}

QByteArray frame(quint8 type, quint8 flags, quint32 stream, const QByteArray &payload)
{
    QByteArray f;
    const auto length = static_cast<quint32>(payload.size());
    f.append(static_cast<char>((length >> 16) & 0xff));
    f.append(static_cast<char>((length >> 8) & 0xff));
    f.append(static_cast<char>(length & 0xff));
    f.append(static_cast<char>(type));
    f.append(static_cast<char>(flags));
    f.append(static_cast<char>((stream >> 24) & 0x7f));
    f.append(static_cast<char>((stream >> 16) & 0xff));
    f.append(static_cast<char>((stream >> 8) & 0xff));
    f.append(static_cast<char>(stream & 0xff));
    return f + payload;
}

const QByteArray kPreface = QByteArrayLiteral("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

// Error code of the first GOAWAY frame in a server's HTTP/2 output, -1 when there is none.
qint64 goawayError(const QByteArray &in)
{
    qsizetype pos = 0;
    while (pos + 9 <= in.size()) {
        const auto *p = reinterpret_cast<const uchar *>(in.constData() + pos);
        const qsizetype length = (p[0] << 16) | (p[1] << 8) | p[2];
        if (p[3] == 0x7 && pos + 9 + 8 <= in.size())
            return (qint64{p[13]} << 24) | (p[14] << 16) | (p[15] << 8) | p[16];
        pos += 9 + length;
    }
    return -1;
}

} // namespace

class TestHttpServer final : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void malformedRequestsGet4xxAndClose_data();
    void malformedRequestsGet4xxAndClose();
    void badHttp2FramesEndTheConnection_data();
    void badHttp2FramesEndTheConnection();
    void slowLorisIsCutOff();
    void silentConnectionIsClosedWhenIdle();
    void keepAliveAndPipelining();
    void http10GetsCloseDelimitedStream();
    void randomGarbageLeavesServerServing();
    void vanishingStreamsAreForgotten();
    void stalledHttp2ReaderIsDropped();

private:
    std::unique_ptr<sse::SseServer> m_server;
    int m_baseline = 0;
};

void TestHttpServer::init()
{
    sse::ServerSettings settings;
    settings.http.maxHeaderBytes = 8 * 1024;
    settings.http.maxBodyBytes = 1024;
    settings.http.requestTimeout = 400ms;
    settings.http.headerTimeout = 400ms;
    settings.http.idleTimeout = 400ms;
    m_server = std::make_unique<sse::SseServer>(settings);
    QVERIFY(m_server->start());
    m_baseline = openDescriptors();
}

void TestHttpServer::cleanup()
{
    // No descriptor outlives its connection.
    QTRY_COMPARE_WITH_TIMEOUT(m_server->stats().connectionsOpen, qint64{0}, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(openDescriptors(), m_baseline, 5000);
    m_server.reset();
}

void TestHttpServer::malformedRequestsGet4xxAndClose_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");

    QTest::newRow("garbage request line") << QByteArray("GARBAGE\r\n\r\n") << 400;
    QTest::newRow("missing target") << QByteArray("GET HTTP/1.1\r\nHost: a\r\n\r\n") << 400;
    QTest::newRow("bad version") << QByteArray("GET /events HTTP/x.y\r\nHost: a\r\n\r\n") << 400;
    QTest::newRow("NUL in target") << QByteArray("GET /ev\0ents HTTP/1.1\r\nHost: a\r\n\r\n", 34) << 400;
    QTest::newRow("field without colon") << QByteArray("GET /events HTTP/1.1\r\nNo colon here\r\n\r\n") << 400;
    QTest::newRow("bad content-length") << QByteArray("GET /events HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n") << 400;
    QTest::newRow("bad chunk size")
        << QByteArray("POST /events HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") << 400;
    QTest::newRow("TLS on a plain port") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15) << 400;
    QTest::newRow("oversize field")
        << QByteArray("GET /events HTTP/1.1\r\nHost: a\r\nX-Big: " + QByteArray(20000, 'a') + "\r\n\r\n") << 431;
    QTest::newRow("oversize request line")
        << QByteArray("GET /" + QByteArray(20000, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n") << 431;
    QTest::newRow("too many fields") << QByteArray("GET / HTTP/1.1\r\n" + QByteArray("X-A: b\r\n").repeated(2000) + "\r\n") << 431;
    QTest::newRow("oversize body")
        << QByteArray("POST /events HTTP/1.1\r\nHost: a\r\nContent-Length: 999999\r\n\r\n") << 413;
}

void TestHttpServer::malformedRequestsGet4xxAndClose()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    bool closed = false;
    const QByteArray response = exchange(m_server->port(), request, &closed);
    QVERIFY2(response.startsWith(QByteArray("HTTP/1.1 " + QByteArray::number(status) + ' ')), response.left(200).constData());
    QVERIFY(response.contains("connection: close\r\n"));
    QVERIFY(closed);
    QTRY_COMPARE(m_server->stats().badRequests, qint64{1});
}

void TestHttpServer::badHttp2FramesEndTheConnection_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<qint64>("error");
    const QByteArray settings = frame(0x4, 0, 0, {});
    constexpr qint64 protocolError = 0x1;
    constexpr qint64 frameSizeError = 0x6;
    constexpr qint64 compressionError = 0x9;

    QTest::newRow("SETTINGS of bad length") << kPreface + frame(0x4, 0, 0, QByteArray(5, '\0')) << frameSizeError;
    QTest::newRow("first frame not SETTINGS") << kPreface + frame(0x8, 0, 0, QByteArray("\0\0\0\1", 4)) << protocolError;
    QTest::newRow("DATA on stream 0") << kPreface + settings + frame(0x0, 0, 0, "abc") << protocolError;
    QTest::newRow("HEADERS on an even stream") << kPreface + settings + frame(0x1, 0x5, 2, QByteArray("\x82", 1)) << protocolError;
    QTest::newRow("undecodable header block")
        << kPreface + settings + frame(0x1, 0x5, 1, QByteArray("\xff\xff\xff\xff\xff", 5)) << compressionError;
    QTest::newRow("zero window increment") << kPreface + settings + frame(0x8, 0, 0, QByteArray(4, '\0')) << protocolError;
    QTest::newRow("garbage after preface") << kPreface + QByteArray(64, '\xee') << protocolError;
}

void TestHttpServer::badHttp2FramesEndTheConnection()
{
    QFETCH(QByteArray, bytes);
    QFETCH(qint64, error);
    bool closed = false;
    const QByteArray response = exchange(m_server->port(), bytes, &closed);
    QVERIFY(closed);
    QCOMPARE(goawayError(response), error);
    QCOMPARE(m_server->stats().http2Connections, qint64{1});
    QTRY_VERIFY(m_server->stats().badRequests >= 1);
}

void TestHttpServer::slowLorisIsCutOff()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(socket.waitForConnected(5000));
    // One byte of a never-ending head every 20 ms: steady traffic, never a complete request.
    const QByteArray head = "GET /events HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + QByteArray(4000, 'a');
    qsizetype sent = 0;
    QTimer trickle;
    connect(&trickle, &QTimer::timeout, &socket, [&] {
        if (sent < head.size() && socket.state() == QAbstractSocket::ConnectedState)
            socket.write(head.mid(sent++, 1));
    });
    trickle.start(20);
    QElapsedTimer t;
    t.start();
    QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 10000);
    QVERIFY(t.elapsed() >= 300);
    QVERIFY(socket.readAll().startsWith("HTTP/1.1 408 Request Timeout\r\n"));
    QCOMPARE(m_server->stats().headerTimeouts, qint64{1});
}

void TestHttpServer::silentConnectionIsClosedWhenIdle()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(socket.waitForConnected(5000));
    QTRY_COMPARE(m_server->stats().connectionsOpen, qint64{1});
    QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 10000);
    // A half-sent HTTP/2 preface is a slow head too.
    QTcpSocket h2;
    h2.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(h2.waitForConnected(5000));
    h2.write(kPreface.left(10));
    QTRY_VERIFY_WITH_TIMEOUT(h2.state() == QAbstractSocket::UnconnectedState, 10000);
}

void TestHttpServer::keepAliveAndPipelining()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(socket.waitForConnected(5000));
    // Two requests in one write, then a third after the answers.
    socket.write("GET /poll HTTP/1.1\r\nHost: a\r\n\r\nGET /nothing HTTP/1.1\r\nHost: a\r\n\r\n");
    QByteArray in;
    QTRY_VERIFY((in += socket.readAll()).contains("404 Not Found"));
    QVERIFY(in.startsWith("HTTP/1.1 200 OK\r\n"));
    socket.write("GET /poll HTTP/1.1\r\nHost: a\r\n\r\n");
    QTRY_COMPARE((in += socket.readAll()).count("HTTP/1.1 "), 3);
    QCOMPARE(m_server->stats().connectionsTotal, qint64{1});
    QCOMPARE(m_server->stats().requests, qint64{3});
    socket.write("GET /poll HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
    QTRY_VERIFY_WITH_TIMEOUT(socket.state() == QAbstractSocket::UnconnectedState, 5000);
}

void TestHttpServer::http10GetsCloseDelimitedStream()
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, m_server->port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write("GET /events HTTP/1.0\r\n\r\n");
    QByteArray in;
    QTRY_VERIFY((in += socket.readAll()).contains("\r\n\r\n"));
    QVERIFY(in.startsWith("HTTP/1.1 200 OK\r\n"));
    QVERIFY(!in.contains("transfer-encoding"));
    sse::PublishedEvent e;
    e.seq = 1;
    e.event.id = "1";
    e.event.data = "plain";
    m_server->publish(e);
    QTRY_VERIFY((in += socket.readAll()).endsWith("\r\n\r\nid: 1\ndata: plain\n\n"));
}

void TestHttpServer::randomGarbageLeavesServerServing()
{
    QRandomGenerator random(42);
    for (int i = 0; i < 60; ++i) {
        QByteArray junk(static_cast<qsizetype>(random.bounded(1, 3000)), '\0');
        for (char &c : junk)
            c = static_cast<char>(random.bounded(256));
        if (i % 3 == 0)
            junk.prepend(kPreface); // garbage inside HTTP/2 as well
        junk.append("\r\n\r\n");
        bool closed = false;
        exchange(m_server->port(), junk, &closed, 3000);
        QVERIFY2(closed, qPrintable(QStringLiteral("case %1 left the connection open").arg(i)));
    }
    bool closed = false;
    const QByteArray ok = exchange(m_server->port(), "GET /poll HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", &closed);
    QVERIFY(ok.startsWith("HTTP/1.1 200 OK\r\n"));
}

void TestHttpServer::vanishingStreamsAreForgotten()
{
    std::vector<std::unique_ptr<QTcpSocket>> sockets;
    for (int i = 0; i < 20; ++i) {
        auto s = std::make_unique<QTcpSocket>();
        s->connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(s->waitForConnected(5000));
        s->write(i % 2 ? QByteArray("GET /events HTTP/1.1\r\nHost: a\r\n\r\n")
                       : kPreface + frame(0x4, 0, 0, {}) + frame(0x1, 0x5, 1, QByteArray("\x82\x86\x41\x01\x61", 5)
                                                                                      + QByteArray("\x04\x07/events", 9)));
        s->flush();
        sockets.push_back(std::move(s));
    }
    QTRY_COMPARE_WITH_TIMEOUT(m_server->stats().streamsOpen, qint64{20}, 5000);
    sockets.clear(); // every peer vanishes mid-stream
    QTRY_COMPARE_WITH_TIMEOUT(m_server->stats().streamsOpen, qint64{0}, 5000);
    sse::PublishedEvent e;
    e.seq = 1;
    m_server->publish(e);
}

void TestHttpServer::stalledHttp2ReaderIsDropped()
{
    // A reader that opens no flow-control window: nothing may be sent on its stream, its
    // queue grows, and past the per-stream limit the stream is reset (CANCEL).
    sse::ServerSettings settings;
    settings.http.maxQueuedBytesPerStream = 8 * 1024;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(socket.waitForConnected(5000));
    socket.write(kPreface + frame(0x4, 0, 0, QByteArray("\x00\x04\x00\x00\x00\x00", 6))
                 + frame(0x1, 0x5, 1, QByteArray("\x82\x86\x41\x01\x61", 5) + QByteArray("\x04\x07/events", 9)));
    QTRY_COMPARE(server.stats().streamsOpen, qint64{1});
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
        sse::PublishedEvent e;
        e.seq = seq;
        e.event.data = QByteArray(1000, 'z');
        server.publish(e);
    }
    QTRY_VERIFY(server.stats().bytesQueued >= 4000);
    QByteArray in;
    QTRY_VERIFY((in += socket.readAll()).size() > 0);
    QCOMPARE(server.stats().slowConsumersDropped, qint64{0});
    for (std::uint64_t seq = 5; seq <= 12; ++seq) {
        sse::PublishedEvent e;
        e.seq = seq;
        e.event.data = QByteArray(1000, 'z');
        server.publish(e);
    }
    QTRY_COMPARE(server.stats().slowConsumersDropped, qint64{1});
    QTRY_COMPARE(server.stats().streamsOpen, qint64{0});
    QTRY_VERIFY((in += socket.readAll()).contains(QByteArray("\x00\x00\x04\x03\x00\x00\x00\x00\x01\x00\x00\x00\x08", 13)));
    QVERIFY(!in.contains(QByteArray(100, 'z'))); // not one byte beyond the zero window
    QTRY_COMPARE(server.stats().bytesQueued, qint64{0});
}

QTEST_GUILESS_MAIN(TestHttpServer)
#include "tst_httpserver.moc"
