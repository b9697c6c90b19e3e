// CORS and the test page as a browser page meets them: credentials need the origin echoed,
// fetch-based clients need preflights answered, and every answer carries the headers.
#include "core/sse/sseserver.h"
#include "core/sse/testpage.h"

#include <QTcpSocket>
#include <QTest>

using namespace edgesse;

namespace {

// One raw HTTP/1.1 exchange; returns the response head and body, lower-cased head.
QByteArray exchange(quint16 port, const QByteArray &request)
{
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), port);
    if (!socket.waitForConnected(5000))
        return {};
    socket.write(request);
    QByteArray out;
    while (socket.waitForReadyRead(1000))
        out += socket.readAll();
    return out;
}

} // namespace

class TestCors final : public QObject
{
    Q_OBJECT

private slots:
    void everyAnswerCarriesCors_data();
    void everyAnswerCarriesCors();
    void preflightIsAnswered();
    void capped503CarriesCors();
    void testPageIsServed();
};

void TestCors::everyAnswerCarriesCors_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<bool>("withOrigin");
    const QByteArray origin = "Origin: http://page.example:8000\r\n";
    QTest::newRow("stream, credentialed") << QByteArray("GET /events HTTP/1.1\r\nHost: x\r\n" + origin + "Connection: close\r\n\r\n") << QByteArray("200") << true;
    QTest::newRow("stream, no origin") << QByteArray("GET /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") << QByteArray("200") << false;
    QTest::newRow("404") << QByteArray("GET /nothing HTTP/1.1\r\nHost: x\r\n" + origin + "Connection: close\r\n\r\n") << QByteArray("404") << true;
    QTest::newRow("405") << QByteArray("DELETE /events HTTP/1.1\r\nHost: x\r\n" + origin + "Connection: close\r\n\r\n") << QByteArray("405") << true;
}

void TestCors::everyAnswerCarriesCors()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, status);
    QFETCH(bool, withOrigin);
    sse::ServerSettings settings;
    settings.maxStreamDuration = std::chrono::milliseconds(200); // the stream ends, the read returns
    sse::SseServer server(settings);
    QVERIFY(server.start());
    const QByteArray out = exchange(server.port(), request).toLower();
    QVERIFY2(out.startsWith(QByteArray("http/1.1 " + status)), out.constData());
    if (withOrigin) {
        QVERIFY2(out.contains("access-control-allow-origin: http://page.example:8000\r\n"), out.constData());
        QVERIFY(out.contains("access-control-allow-credentials: true\r\n"));
        QVERIFY(out.contains("vary: origin\r\n"));
    } else {
        QVERIFY2(out.contains("access-control-allow-origin: *\r\n"), out.constData());
        QVERIFY(!out.contains("access-control-allow-credentials"));
    }
}

void TestCors::preflightIsAnswered()
{
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    // What Chromium sends before a fetch() with Last-Event-ID and credentials.
    const QByteArray out = exchange(server.port(), "OPTIONS /events HTTP/1.1\r\nHost: x\r\n"
                                                   "Origin: https://app.example\r\n"
                                                   "Access-Control-Request-Method: GET\r\n"
                                                   "Access-Control-Request-Headers: last-event-id,x-trace\r\n"
                                                   "Connection: close\r\n\r\n").toLower();
    QVERIFY2(out.startsWith("http/1.1 204 "), out.constData());
    QVERIFY(out.contains("access-control-allow-origin: https://app.example\r\n"));
    QVERIFY(out.contains("access-control-allow-credentials: true\r\n"));
    QVERIFY(out.contains("access-control-allow-methods: get, head, post, options\r\n"));
    const qsizetype at = out.indexOf("access-control-allow-headers: ");
    QVERIFY(at >= 0);
    const QByteArray allowed = out.mid(at, out.indexOf("\r\n", at) - at);
    for (const char *h : {"last-event-id", "authorization", "cache-control", "x-trace"})
        QVERIFY2(allowed.contains(h), allowed.constData());
}

void TestCors::capped503CarriesCors()
{
    sse::ServerSettings settings;
    settings.http.maxConnections = 1;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    QTcpSocket holder; // takes the one connection
    holder.connectToHost(QStringLiteral("127.0.0.1"), server.port());
    QVERIFY(holder.waitForConnected(5000));
    holder.write("GET /events HTTP/1.1\r\nHost: x\r\n\r\n");
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 5000);
    const QByteArray out = exchange(server.port(), "GET /events HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n")
                               .toLower();
    QVERIFY2(out.startsWith("http/1.1 503 "), out.constData());
    QVERIFY(out.contains("retry-after: "));
    QVERIFY(out.contains("access-control-allow-origin: https://app.example\r\n"));
}

void TestCors::testPageIsServed()
{
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    for (const QByteArray &path : {QByteArray("/"), QByteArray("/client.html?streams=8&path=/events")}) {
        const QByteArray out = exchange(server.port(), "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        QVERIFY2(out.startsWith("HTTP/1.1 200 "), out.left(200).constData());
        QVERIFY(out.toLower().contains("content-type: text/html; charset=utf-8"));
        QVERIFY(out.endsWith(sse::testPage()));
    }
    QVERIFY(sse::testPage().contains("new EventSource("));
}

QTEST_GUILESS_MAIN(TestCors)
#include "tst_cors.moc"
