// Real peers against our server: curl (HTTP/1.1 and HTTP/2 with prior knowledge), nghttp
// and h2load, as a user would point them at it.
#include "core/sse/sseserver.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

#include <chrono>
#include <memory>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

sse::PublishedEvent makeEvent(std::uint64_t seq, const QByteArray &data)
{
    sse::PublishedEvent e;
    e.seq = seq;
    e.publishedAt = std::chrono::steady_clock::now();
    e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
    e.event.data = data;
    return e;
}

QByteArray wire(std::uint64_t seq, const QByteArray &data)
{
    return "id: " + QByteArray::number(static_cast<qulonglong>(seq)) + "\ndata: " + data + "\n\n";
}

// A peer process whose output is collected as it comes.
class Peer
{
public:
    Peer(const QString &program, const QStringList &arguments)
    {
        // nghttp writes the body through stdio: without a terminal it would sit in a buffer.
        const QString stdbuf = QStandardPaths::findExecutable(QStringLiteral("stdbuf"));
        if (program == QLatin1String("nghttp") && !stdbuf.isEmpty()) {
            m_process.setProgram(stdbuf);
            m_process.setArguments(QStringList{QStringLiteral("-o0"), QStandardPaths::findExecutable(program)} + arguments);
        } else {
            m_process.setProgram(QStandardPaths::findExecutable(program));
            m_process.setArguments(arguments);
        }
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start();
    }
    ~Peer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
    }
    bool started() { return m_process.waitForStarted(5000); }
    QByteArray &out()
    {
        m_out += m_process.readAllStandardOutput();
        return m_out;
    }
    QByteArray err() { return m_process.readAllStandardError(); }
    bool finish(int ms = 20000) { return m_process.waitForFinished(ms); }
    int exitCode() const { return m_process.exitCode(); }
    QProcess &process() { return m_process; }

private:
    QProcess m_process;
    QByteArray m_out;
};

bool have(const char *program)
{
    return !QStandardPaths::findExecutable(QString::fromUtf8(program)).isEmpty();
}

} // namespace

class TestInteropServer final : public QObject
{
    Q_OBJECT

private slots:
    void curlReceivesEvents_data();
    void curlReceivesEvents();
    void curlResumesWithLastEventId_data();
    void curlResumesWithLastEventId();
    void nghttpReceivesEventsAndHeartbeats();
    void nghttpResumesWithLastEventId();
    void nghttpWithSmallWindowsGetsEverything();
    void curlPolls();
    void h2loadOpensManyStreamsOnOneConnection();
    void h2loadStreamsHitTheStreamLimit();
};

void TestInteropServer::curlReceivesEvents_data()
{
    QTest::addColumn<QStringList>("protocolArgs");
    QTest::addColumn<bool>("http2");
    QTest::newRow("HTTP/1.1") << QStringList{QStringLiteral("--http1.1")} << false;
    QTest::newRow("HTTP/2 prior knowledge") << QStringList{QStringLiteral("--http2-prior-knowledge")} << true;
}

void TestInteropServer::curlReceivesEvents()
{
    QFETCH(QStringList, protocolArgs);
    QFETCH(bool, http2);
    if (!have("curl"))
        QSKIP("curl is not installed (scripts/dev installs it)");
    sse::ServerSettings settings;
    settings.heartbeat = 100ms;
    settings.retry = 2s;
    sse::SseServer server(settings);
    QVERIFY(server.start());

    Peer curl(QStringLiteral("curl"), protocolArgs + QStringList{QStringLiteral("-sSN"), QStringLiteral("-D"),
                                                                  QStringLiteral("/dev/stderr"),
                                                                  server.url().toString()});
    QVERIFY(curl.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    for (std::uint64_t seq = 1; seq <= 3; ++seq)
        server.publish(makeEvent(seq, "event " + QByteArray::number(static_cast<qulonglong>(seq))));
    QTRY_VERIFY_WITH_TIMEOUT(curl.out().contains(wire(3, "event 3")), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(curl.out().contains(": heartbeat\n\n"), 10000);
    // Exactly what was published, in order, framing removed by curl.
    QByteArray events = curl.out();
    events.replace(": heartbeat\n\n", "");
    QCOMPARE(events, QByteArray("retry: 2000\n\n" + wire(1, "event 1") + wire(2, "event 2") + wire(3, "event 3")));
    QCOMPARE(server.stats().http2Connections, qint64{http2 ? 1 : 0});
    const QByteArray head = curl.err().toLower();
    QVERIFY2(head.contains("content-type: text/event-stream"), head.constData());
}

void TestInteropServer::curlResumesWithLastEventId_data()
{
    curlReceivesEvents_data();
}

void TestInteropServer::curlResumesWithLastEventId()
{
    QFETCH(QStringList, protocolArgs);
    if (!have("curl"))
        QSKIP("curl is not installed (scripts/dev installs it)");
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    for (std::uint64_t seq = 1; seq <= 5; ++seq)
        server.publish(makeEvent(seq, "e"));

    Peer curl(QStringLiteral("curl"), protocolArgs + QStringList{QStringLiteral("-sSN"), QStringLiteral("-D"),
                                                                  QStringLiteral("/dev/stderr"), QStringLiteral("-H"),
                                                                  QStringLiteral("Last-Event-ID: 3"),
                                                                  server.url().toString()});
    QVERIFY(curl.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    server.publish(makeEvent(6, "live"));
    QTRY_VERIFY_WITH_TIMEOUT(curl.out().contains(wire(6, "live")), 10000);
    QCOMPARE(curl.out(), QByteArray(": edgesse-replay complete replayed=2\n\n" + wire(4, "e") + wire(5, "e")
                                    + wire(6, "live")));
    QVERIFY(curl.err().toLower().contains("edgesse-replay: complete; replayed=2"));
}

void TestInteropServer::nghttpReceivesEventsAndHeartbeats()
{
    if (!have("nghttp"))
        QSKIP("nghttp is not installed (package nghttp2-client)");
    sse::ServerSettings settings;
    settings.heartbeat = 100ms;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    Peer nghttp(QStringLiteral("nghttp"), {server.url().toString()});
    QVERIFY(nghttp.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    server.publish(makeEvent(1, "over h2"));
    server.publish(makeEvent(2, "again"));
    QTRY_VERIFY_WITH_TIMEOUT(nghttp.out().contains(wire(2, "again")), 10000);
    QTRY_VERIFY_WITH_TIMEOUT(nghttp.out().contains(": heartbeat\n\n"), 10000);
    QByteArray events = nghttp.out();
    events.replace(": heartbeat\n\n", "");
    QCOMPARE(events, QByteArray(wire(1, "over h2") + wire(2, "again")));
    QCOMPARE(server.stats().http2Connections, qint64{1});
}

void TestInteropServer::nghttpResumesWithLastEventId()
{
    if (!have("nghttp"))
        QSKIP("nghttp is not installed (package nghttp2-client)");
    sse::ServerSettings settings;
    settings.replayCapacity = 2;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    for (std::uint64_t seq = 1; seq <= 6; ++seq)
        server.publish(makeEvent(seq, "e"));
    Peer nghttp(QStringLiteral("nghttp"), {QStringLiteral("-H"), QStringLiteral("last-event-id: 1"),
                                           server.url().toString()});
    QVERIFY(nghttp.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    server.publish(makeEvent(7, "live"));
    QTRY_VERIFY_WITH_TIMEOUT(nghttp.out().contains(wire(7, "live")), 10000);
    // Only 5 and 6 are still held: the stream says 3 events (2, 3, 4) are lost.
    QCOMPARE(nghttp.out(), QByteArray(": edgesse-replay gap replayed=2 lost=3\n\n" + wire(5, "e") + wire(6, "e")
                                      + wire(7, "live")));
    QCOMPARE(server.stats().eventsLostInGaps, qint64{3});
}

void TestInteropServer::nghttpWithSmallWindowsGetsEverything()
{
    if (!have("nghttp"))
        QSKIP("nghttp is not installed (package nghttp2-client)");
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    // 1 KB stream and connection windows, 64 KB of events: the server must wait for
    // WINDOW_UPDATEs (nghttp ends the connection with FLOW_CONTROL_ERROR if it does not).
    Peer nghttp(QStringLiteral("nghttp"), {QStringLiteral("-w"), QStringLiteral("10"), QStringLiteral("-W"), QStringLiteral("10"),
                                           server.url().toString()});
    QVERIFY(nghttp.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{1}, 10000);
    QByteArray expected;
    for (std::uint64_t seq = 1; seq <= 64; ++seq) {
        const QByteArray data = QByteArray(1000, static_cast<char>('a' + seq % 26));
        server.publish(makeEvent(seq, data));
        expected += wire(seq, data);
    }
    QTRY_VERIFY_WITH_TIMEOUT(nghttp.out().size() >= expected.size(), 10000);
    QCOMPARE(nghttp.out(), expected);
    QCOMPARE(server.stats().badRequests, qint64{0});
}

void TestInteropServer::curlPolls()
{
    if (!have("curl"))
        QSKIP("curl is not installed (scripts/dev installs it)");
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    server.publish(makeEvent(1, "a"));
    server.publish(makeEvent(2, "b"));
    QTRY_COMPARE(server.stats().eventsPublished, qint64{2});
    Peer shortPoll(QStringLiteral("curl"), {QStringLiteral("-sS"), QStringLiteral("--http2-prior-knowledge"),
                                            server.url(QStringLiteral("/poll")).toString() + QStringLiteral("?after=1")});
    QVERIFY(shortPoll.finish());
    QCOMPARE(shortPoll.exitCode(), 0);
    QCOMPARE(shortPoll.out(), wire(2, "b"));

    Peer longPoll(QStringLiteral("curl"), {QStringLiteral("-sS"),
                                           server.url(QStringLiteral("/poll")).toString() + QStringLiteral("?after=2&wait=1")});
    QVERIFY(longPoll.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().longPollsWaiting, qint64{1}, 10000);
    server.publish(makeEvent(3, "c"));
    QVERIFY(longPoll.finish());
    QCOMPARE(longPoll.out(), wire(3, "c"));
}

void TestInteropServer::h2loadOpensManyStreamsOnOneConnection()
{
    if (!have("h2load"))
        QSKIP("h2load is not installed (package nghttp2-client)");
    sse::SseServer server(sse::ServerSettings{});
    QVERIFY(server.start());
    server.publish(makeEvent(1, "x"));
    Peer h2load(QStringLiteral("h2load"), {QStringLiteral("-n"), QStringLiteral("2000"), QStringLiteral("-c"),
                                           QStringLiteral("1"), QStringLiteral("-m"), QStringLiteral("100"),
                                           server.url(QStringLiteral("/poll")).toString() + QStringLiteral("?after=0")});
    QVERIFY(h2load.finish(30000));
    const QByteArray out = h2load.out();
    QVERIFY2(out.contains("2000 succeeded, 0 failed, 0 errored"), out.constData());
    QVERIFY2(out.contains("status codes: 2000 2xx"), out.constData());
    QCOMPARE(server.stats().connectionsTotal, qint64{1});
    QCOMPARE(server.stats().http2Connections, qint64{1});
}

void TestInteropServer::h2loadStreamsHitTheStreamLimit()
{
    if (!have("h2load"))
        QSKIP("h2load is not installed (package nghttp2-client)");
    sse::ServerSettings settings;
    settings.http.maxConcurrentStreams = 50;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    // 80 never-ending streams asked for on one connection: the server's SETTINGS allow 50.
    Peer h2load(QStringLiteral("h2load"), {QStringLiteral("-c"), QStringLiteral("1"), QStringLiteral("-m"),
                                           QStringLiteral("80"), QStringLiteral("-D"), QStringLiteral("2"),
                                           server.url().toString()});
    QVERIFY(h2load.started());
    QTRY_COMPARE_WITH_TIMEOUT(server.stats().streamsOpen, qint64{50}, 10000);
    for (std::uint64_t seq = 1; seq <= 10; ++seq)
        server.publish(makeEvent(seq, QByteArray(200, 'x')));
    QVERIFY(h2load.finish(30000));
    QCOMPARE(server.stats().streamsMax, qint64{50});
    QCOMPARE(server.stats().connectionsTotal, qint64{1});
    QTRY_COMPARE(server.stats().eventWrites, qint64{500});
    const QByteArray out = h2load.out();
    const auto match = QRegularExpression(QStringLiteral("traffic: .* \\((\\d+)\\) data")).match(QString::fromUtf8(out));
    QVERIFY2(match.hasMatch(), out.constData());
    // 50 streams x 10 events of wire(n, 200 x) each arrived as DATA.
    QVERIFY(match.captured(1).toLongLong() >= 50 * 10 * (wire(10, QByteArray(200, 'x')).size() - 1));
}

QTEST_GUILESS_MAIN(TestInteropServer)
#include "tst_interop_server.moc"
