#include "core/net/netthreads.h"
#include "core/sse/sseparser.h"
#include "core/sse/sseserver.h"
#include "tests/support/serversupport.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTest>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

// A plain TCP client speaking just enough HTTP/1.1 to check what the server writes.
class RawClient
{
public:
    bool connectTo(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        return m_socket.waitForConnected(5000);
    }
    void send(const QByteArray &bytes)
    {
        m_socket.write(bytes);
        m_socket.flush();
    }
    void get(const QByteArray &target, const QByteArray &extraHeaders = {})
    {
        send("GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extraHeaders + "\r\n");
    }
    // Reads until `needle` is in the received bytes or `ms` pass.
    bool waitFor(const QByteArray &needle, int ms = 5000)
    {
        QElapsedTimer t;
        t.start();
        while (!m_in.contains(needle)) {
            const int left = ms - static_cast<int>(t.elapsed());
            if (left <= 0)
                return false;
            if (!m_socket.waitForReadyRead(left) && m_socket.state() != QAbstractSocket::ConnectedState) {
                m_in += m_socket.readAll();
                return m_in.contains(needle);
            }
            m_in += m_socket.readAll();
        }
        return true;
    }
    bool waitClosed(int ms = 5000)
    {
        QElapsedTimer t;
        t.start();
        while (m_socket.state() == QAbstractSocket::ConnectedState && t.elapsed() < ms) {
            m_socket.waitForReadyRead(50);
            m_in += m_socket.readAll();
        }
        m_in += m_socket.readAll();
        return m_socket.state() != QAbstractSocket::ConnectedState;
    }
    QByteArray &received() { return m_in; }
    // The body of the first response, chunked coding removed.
    QByteArray body() const
    {
        const qsizetype headEnd = m_in.indexOf("\r\n\r\n");
        if (headEnd < 0)
            return {};
        const QByteArray head = m_in.left(headEnd).toLower();
        QByteArray rest = m_in.mid(headEnd + 4);
        if (!head.contains("transfer-encoding: chunked"))
            return rest;
        QByteArray out;
        qsizetype pos = 0;
        for (;;) {
            const qsizetype eol = rest.indexOf("\r\n", pos);
            if (eol < 0)
                break;
            bool ok = false;
            const qsizetype size = rest.mid(pos, eol - pos).toLongLong(&ok, 16);
            if (!ok || size == 0 || eol + 2 + size > rest.size())
                break;
            out += rest.mid(eol + 2, size);
            pos = eol + 2 + size + 2;
        }
        return out;
    }
    QTcpSocket &socket() { return m_socket; }

private:
    QTcpSocket m_socket;
    QByteArray m_in;
};

sse::PublishedEvent makeEvent(std::uint64_t seq, const QByteArray &data, const QByteArray &type = {})
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.publishedAt = std::chrono::steady_clock::now();
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.type = type;
    e.event.data = data;
    return e;
}

QByteArray wire(std::uint64_t seq, const QByteArray &data)
{
    return "id: " + QByteArray::number(static_cast<qulonglong>(seq)) + "\ndata: " + data + "\n\n";
}

} // namespace

using testing::startServer;

class TestSseServer final : public QObject
{
    Q_OBJECT

private slots:
    void streamsEventsAsPublished();
    void replaysAfterLastEventId_data();
    void replaysAfterLastEventId();
    void unknownLastEventIdIsAGap();
    void newStreamLearnsWhereItStarts();
    void sendsHeartbeats();
    void noHeartbeatsWhenNoneConfigured();
    void capAnswers503WithRetryAfter();
    void maxStreamDurationEndsTheStream();
    void shortPollAnswersAtOnce();
    void longPollWaitsForTheNextEvent();
    void longPollTimesOut();
    void unknownPathAndMethod();
    void portInUseIsReported();
    void stopClosesOpenStreams();
    void servesOnNetThreads();
};

void TestSseServer::streamsEventsAsPublished()
{
    sse::ServerSettings settings;
    settings.retry = 1500ms;
    auto server = startServer(settings);
    QVERIFY(server->port() != 0);
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events");
    QVERIFY(client.waitFor("\r\n\r\n"));
    const QByteArray head = client.received().left(client.received().indexOf("\r\n\r\n")).toLower();
    QVERIFY(head.startsWith("http/1.1 200 ok"));
    QVERIFY(head.contains("content-type: text/event-stream"));
    QVERIFY(head.contains("transfer-encoding: chunked"));
    QTRY_COMPARE(server->stats().streamsOpen, qint64{1});

    server->publish(makeEvent(1, "hello"));
    server->publish(makeEvent(2, "two\nlines", "tick"));
    sse::PublishedEvent withRetry = makeEvent(3, "r");
    withRetry.event.retry = 2500ms;
    server->publish(withRetry);
    QVERIFY(client.waitFor("data: r\n\n\r\n"));
    QCOMPARE(client.body(), QByteArray("retry: 1500\n\n" + wire(1, "hello")
                                       + "id: 2\nevent: tick\ndata: two\ndata: lines\n\n"
                                       + "id: 3\nretry: 2500\ndata: r\n\n"));
    QTRY_COMPARE(server->stats().eventWrites, qint64{3});
    QCOMPARE(server->stats().eventsPublished, qint64{3});
    QVERIFY(server->stats().bytesSent > client.body().size());
}

void TestSseServer::replaysAfterLastEventId_data()
{
    QTest::addColumn<int>("capacity");
    QTest::addColumn<int>("lastEventId");
    QTest::addColumn<QByteArray>("replayHeader");
    QTest::addColumn<int>("firstReplayed");

    // 10 events published while the reader was away.
    QTest::newRow("all held") << 100 << 2 << QByteArray("complete; replayed=8") << 3;
    QTest::newRow("up to date") << 100 << 10 << QByteArray("complete; replayed=0") << 11;
    QTest::newRow("partly evicted") << 3 << 2 << QByteArray("gap; replayed=3; lost=5") << 8;
    QTest::newRow("no buffer") << 0 << 4 << QByteArray("gap; replayed=0; lost=6") << 11;
}

void TestSseServer::replaysAfterLastEventId()
{
    QFETCH(int, capacity);
    QFETCH(int, lastEventId);
    QFETCH(QByteArray, replayHeader);
    QFETCH(int, firstReplayed);

    sse::ServerSettings settings;
    settings.replayCapacity = static_cast<std::size_t>(capacity);
    auto server = startServer(settings);
    for (std::uint64_t seq = 1; seq <= 10; ++seq)
        server->publish(makeEvent(seq, "e" + QByteArray::number(static_cast<qulonglong>(seq))));
    QTRY_COMPARE(server->stats().eventsPublished, qint64{10});

    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events", "Last-Event-ID: " + QByteArray::number(lastEventId) + "\r\n");
    QVERIFY(client.waitFor("edgesse-replay"));
    QTRY_COMPARE(server->stats().streamsOpen, qint64{1});
    server->publish(makeEvent(11, "e11"));
    QVERIFY(client.waitFor("data: e11\n"));
    QVERIFY(client.received().contains(QByteArray("edgesse-replay: " + replayHeader + "\r\n")));

    // Every event after Last-Event-ID that the buffer holds, once, in order, then live ones.
    QByteArray expected = ": edgesse-replay " + QByteArray(replayHeader).replace(";", "") + "\n\n";
    for (int seq = firstReplayed; seq <= 11; ++seq)
        expected += wire(static_cast<std::uint64_t>(seq), "e" + QByteArray::number(seq));
    QCOMPARE(client.body(), expected);
    const auto stats = server->stats();
    QCOMPARE(stats.replaysComplete + stats.replaysWithGap, qint64{1});
    QCOMPARE(stats.eventsLostInGaps, qint64{firstReplayed - 1 - lastEventId > 0 ? firstReplayed - 1 - lastEventId : 0});
}

void TestSseServer::newStreamLearnsWhereItStarts()
{
    // A stream opened after events were published is told the newest id, without an event:
    // cut before its first event, it still resumes from there with nothing lost.
    auto server = startServer();
    for (std::uint64_t seq = 1; seq <= 5; ++seq)
        server->publish(makeEvent(seq, "e"));
    QTRY_COMPARE(server->stats().eventsPublished, qint64{5});
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events");
    QVERIFY(client.waitFor("id: 5\n\n"));
    QTRY_COMPARE(server->stats().streamsOpen, qint64{1});

    struct Collect final : sse::SseParser::Sink {
        int events = 0;
        void eventDispatched(const sse::Event &) override { ++events; }
    } sink;
    sse::SseParser parser(sink);
    parser.feed(client.body());
    QCOMPARE(sink.events, 0);
    QCOMPARE(parser.lastEventId(), QByteArray("5"));

    RawClient resumed;
    QVERIFY(resumed.connectTo(server->port()));
    server->publish(makeEvent(6, "missed"));
    QTRY_COMPARE(server->stats().eventsPublished, qint64{6});
    resumed.get("/events", "Last-Event-ID: " + parser.lastEventId() + "\r\n");
    QVERIFY(resumed.waitFor("data: missed\n"));
    QVERIFY(resumed.received().contains("edgesse-replay: complete; replayed=1\r\n"));
}

void TestSseServer::unknownLastEventIdIsAGap()
{
    auto server = startServer();
    server->publish(makeEvent(1, "a"));
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events", "Last-Event-ID: not-a-number\r\n");
    QVERIFY(client.waitFor("lost=unknown\n\n"));
    QVERIFY(client.received().contains("edgesse-replay: gap; replayed=0; lost=unknown\r\n"));
    QTRY_COMPARE(server->stats().replaysWithGap, qint64{1});
}

void TestSseServer::sendsHeartbeats()
{
    sse::ServerSettings settings;
    settings.heartbeat = 50ms;
    auto server = startServer(settings);
    RawClient a;
    RawClient b;
    QVERIFY(a.connectTo(server->port()));
    QVERIFY(b.connectTo(server->port()));
    a.get("/events");
    b.get("/events");
    QVERIFY(a.waitFor(": heartbeat\n\n\r\n"));
    a.received().clear();
    QVERIFY(a.waitFor(": heartbeat\n\n\r\n"));
    QVERIFY(b.waitFor(": heartbeat\n\n"));
    const auto stats = server->stats();
    QVERIFY(stats.heartbeats >= 3);
    QCOMPARE(stats.heartbeatBytes, stats.heartbeats * qint64(sizeof(": heartbeat\n\n") - 1));
}

void TestSseServer::noHeartbeatsWhenNoneConfigured()
{
    auto server = startServer();
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events");
    QTRY_COMPARE(server->stats().streamsOpen, qint64{1});
    QVERIFY(!client.waitFor("heartbeat", 300));
    QCOMPARE(server->stats().heartbeatBytes, qint64{0});
}

void TestSseServer::capAnswers503WithRetryAfter()
{
    sse::ServerSettings settings;
    settings.http.maxConnections = 2;
    settings.http.retryAfter = 7s;
    auto server = startServer(settings);
    RawClient a;
    RawClient b;
    RawClient c;
    QVERIFY(a.connectTo(server->port()));
    QVERIFY(b.connectTo(server->port()));
    a.get("/events");
    b.get("/events");
    QTRY_COMPARE(server->stats().streamsOpen, qint64{2});
    QVERIFY(c.connectTo(server->port()));
    c.get("/events");
    QVERIFY(c.waitFor("\r\n\r\n"));
    QVERIFY(c.received().startsWith("HTTP/1.1 503 Service Unavailable\r\n"));
    QVERIFY(c.received().contains("retry-after: 7\r\n"));
    QVERIFY(c.waitClosed());
    QCOMPARE(server->stats().connectionsRejected, qint64{1});
    QCOMPARE(server->stats().connectionsMax, qint64{2});

    // A freed slot is served again.
    a.socket().abort();
    QTRY_COMPARE(server->stats().connectionsOpen, qint64{1});
    RawClient d;
    QVERIFY(d.connectTo(server->port()));
    d.get("/events");
    QVERIFY(d.waitFor("\r\n\r\n"));
    QVERIFY(d.received().startsWith("HTTP/1.1 200 OK\r\n"));
}

void TestSseServer::maxStreamDurationEndsTheStream()
{
    sse::ServerSettings settings;
    settings.maxStreamDuration = 200ms;
    auto server = startServer(settings);
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    QElapsedTimer t;
    t.start();
    client.get("/events");
    QVERIFY(client.waitFor("\r\n0\r\n\r\n", 5000));
    QVERIFY(t.elapsed() >= 150);
    QTRY_COMPARE(server->stats().streamsEndedByMaxDuration, qint64{1});
    QCOMPARE(server->stats().streamsOpen, qint64{0});
    // The connection stays usable (keep-alive) for the reconnect.
    client.received().clear();
    client.get("/events");
    QVERIFY(client.waitFor("\r\n\r\n"));
    QVERIFY(client.received().startsWith("HTTP/1.1 200 OK\r\n"));
    QCOMPARE(server->stats().connectionsTotal, qint64{1});
}

void TestSseServer::shortPollAnswersAtOnce()
{
    auto server = startServer();
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
        server->publish(makeEvent(seq, "p"));
    QTRY_COMPARE(server->stats().eventsPublished, qint64{3});
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/poll?after=1");
    const QByteArray expected = wire(2, "p") + wire(3, "p");
    QVERIFY(client.waitFor(expected));
    QVERIFY(client.received().contains(QByteArray("content-length: " + QByteArray::number(expected.size()) + "\r\n")));
    QVERIFY(client.received().contains("edgesse-last-id: 3\r\n"));
    QVERIFY(client.received().contains("edgesse-replay: complete; replayed=2\r\n"));

    // Nothing new: an empty answer, at once, on the same connection.
    client.received().clear();
    client.get("/poll?after=3");
    QVERIFY(client.waitFor("content-length: 0\r\n"));
    client.received().clear();
    client.get("/poll");
    QVERIFY(client.waitFor("edgesse-last-id: 3\r\n"));
    QCOMPARE(server->stats().polls, qint64{3});
}

void TestSseServer::longPollWaitsForTheNextEvent()
{
    auto server = startServer();
    server->publish(makeEvent(1, "old"));
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/poll?after=1&wait=1");
    QTRY_COMPARE(server->stats().longPollsWaiting, qint64{1});
    QVERIFY(!client.waitFor("\r\n\r\n", 200));
    server->publish(makeEvent(2, "new"));
    QVERIFY(client.waitFor(wire(2, "new")));
    QVERIFY(!client.received().contains("old"));
    QCOMPARE(server->stats().longPollsWaiting, qint64{0});
}

void TestSseServer::longPollTimesOut()
{
    sse::ServerSettings settings;
    settings.longPollTimeout = 200ms;
    auto server = startServer(settings);
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    QElapsedTimer t;
    t.start();
    client.get("/poll?after=0&wait=1");
    QVERIFY(client.waitFor("content-length: 0\r\n"));
    QVERIFY(t.elapsed() >= 150);
    QTRY_COMPARE(server->stats().longPollsWaiting, qint64{0});
    // A waiting reader that goes away is forgotten.
    client.received().clear();
    client.get("/poll?after=0&wait=1");
    QTRY_COMPARE(server->stats().longPollsWaiting, qint64{1});
    client.socket().abort();
    QTRY_COMPARE(server->stats().longPollsWaiting, qint64{0});
}

void TestSseServer::unknownPathAndMethod()
{
    auto server = startServer();
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/nope");
    QVERIFY(client.waitFor("Paths: /events"));
    QVERIFY(client.received().startsWith("HTTP/1.1 404 Not Found\r\n"));
    client.received().clear();
    client.send("POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
    QVERIFY(client.waitFor("Only GET"));
    QVERIFY(client.received().startsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
}

void TestSseServer::portInUseIsReported()
{
    auto first = startServer();
    sse::ServerSettings settings;
    settings.port = first->port();
    sse::SseServer second(settings);
    QVERIFY(!second.start());
    QVERIFY2(second.errorString().contains(QString::number(first->port())), qPrintable(second.errorString()));
    QVERIFY(!second.isRunning());
}

void TestSseServer::stopClosesOpenStreams()
{
    auto server = startServer();
    RawClient client;
    QVERIFY(client.connectTo(server->port()));
    client.get("/events");
    QTRY_COMPARE(server->stats().streamsOpen, qint64{1});
    server->stop();
    QVERIFY(client.waitClosed());
    server->publish(makeEvent(1, "after stop")); // ignored, no crash
}

void TestSseServer::servesOnNetThreads()
{
    // The data plane's epoll dispatcher threads: streams, heartbeats and deadlines work there.
    net::NetThreads threads(1);
    sse::ServerSettings settings;
    settings.heartbeat = 50ms;
    settings.maxStreamDuration = 400ms;
    sse::SseServer server(settings);
    QVERIFY(server.start(threads.thread(0)));
    RawClient client;
    QVERIFY(client.connectTo(server.port()));
    client.get("/events");
    QTRY_COMPARE(server.stats().streamsOpen, qint64{1});
    server.publish(makeEvent(1, "epoll"));
    QVERIFY(client.waitFor(wire(1, "epoll")));
    QVERIFY(client.waitFor(": heartbeat\n\n"));
    QVERIFY(client.waitFor("\r\n0\r\n\r\n"));
    QTRY_COMPARE(server.stats().streamsEndedByMaxDuration, qint64{1});
    server.stop();
    QVERIFY(client.waitClosed());
}

QTEST_GUILESS_MAIN(TestSseServer)
#include "tst_sseserver.moc"
