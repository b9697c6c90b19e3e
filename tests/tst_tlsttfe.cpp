// Time to first event through a delayed link with real TLS, from the link's latency alone:
// TCP (1 RTT), TLS 1.3 (1 RTT: ServerHello to Finished), the request (1 RTT), then the wait
// for the next event — none here: the request asks for Last-Event-ID 0, so the server's
// replay of the events already published comes with the response head. A resumed TLS 1.3 session (a PSK from the
// server's ticket) still takes its 1 RTT; with early data (0-RTT, `tlsEarlyData`) the request
// goes with the ClientHello and the server answers it at once: 2 RTT. Measured by our client,
// by curl (`-w '%{time_connect} %{time_appconnect} %{time_starttransfer}'`, its second URL a
// new connection resuming the first one's session; Debian 12's curl 7.88 has no early-data
// option) and by openssl s_client (`-sess_out`, then `-sess_in -early_data`).
#include "core/http/connectionpool.h"
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/net/netthreads.h"
#include "core/sse/sseserver.h"
#include "core/tls/tlsidentity.h"
#include "core/util/sessionpriority.h"
#include "tests/support/testca.h"

#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

constexpr auto kLatency = 50ms; // one way: RTT 100 ms
constexpr double kRttMs = 2.0 * std::chrono::duration<double, std::milli>(kLatency).count();
// What the loaded machine may add to a path of whole round trips: far less than one more.
constexpr double kSlackMs = 0.25 * kRttMs;

// Times the first event of one request from its submission.
struct FirstEvent final : http::ResponseHandler {
    std::chrono::steady_clock::time_point submittedAt;
    std::optional<double> ms;
    http::StartInfo start;
    QByteArray body;
    QString failure;
    std::function<void()> done;
    void requestStarted(const http::StartInfo &info) override { start = info; }
    void responseHeadReceived(const http::ResponseHead &) override {}
    void responseDataReceived(const char *data, std::size_t size) override
    {
        body.append(data, qsizetype(size));
        if (!ms && body.contains("data: ")) {
            ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - submittedAt).count();
            if (done)
                done();
        }
    }
    void responseCompleted() override {}
    void responseFailed(http::ClientError, const QString &message) override
    {
        failure = message;
        if (done)
            done();
    }
    // Runs the event loop until the first event or a failure. Not QTRY_*/qWaitFor: they sleep
    // 10 ms between passes, and each handshake step the client answers would wait for one.
    bool wait(int timeoutMs)
    {
        QEventLoop loop;
        done = [&loop] { loop.quit(); };
        QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
        if (!ms && failure.isEmpty())
            loop.exec();
        done = nullptr;
        return ms.has_value();
    }
};

http::ClientRequest eventsRequest(quint16 port)
{
    http::ClientRequest r;
    r.path = "/events";
    r.authority = "127.0.0.1:" + QByteArray::number(port);
    r.headers = {{"accept", "text/event-stream"}, {"last-event-id", "0"}}; // replayed with the response head
    return r;
}

QString within(double value, double lo, double hi)
{
    return QStringLiteral("%1 ms, expected %2..%3 ms").arg(value, 0, 'f', 1).arg(lo, 0, 'f', 1).arg(hi, 0, 'f', 1);
}

} // namespace

class TestTlsTtfe final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void engineSeesThreeRoundTrips_data();
    void engineSeesThreeRoundTrips();
    void curlSeesTheSameRoundTrips_data();
    void curlSeesTheSameRoundTrips();
    void earlyDataSavesARoundTrip_data();
    void earlyDataSavesARoundTrip();
    void opensslEarlyDataSavesARoundTrip();

private:
    bool startLink(std::optional<std::chrono::microseconds> maxDuration);
    void warmUp(http::ClientProtocol protocol);
    void measureTwiceAtMost(http::ClientProtocol protocol, bool earlyData);
    QString measureRoundTrips(http::ClientProtocol protocol, bool earlyData);
    // openssl s_client's first response byte after its TCP connect, in ms (< 0: failed, with `log`).
    double sClientFirstByte(const QStringList &sessionArgs, const QString &requestFile, QByteArray *log);

    std::shared_ptr<const tls::TlsIdentity> m_identity;
    QTemporaryDir m_dir;
    QString m_caFile;
    std::unique_ptr<sse::SseServer> m_server;
    std::unique_ptr<net::NetThreads> m_threads;
    std::unique_ptr<link::LinkProxy> m_link;
};

void TestTlsTtfe::initTestCase()
{
    if (!util::runAheadOfOtherSessions())
        qInfo("not raised ahead of other sessions (not root, or a process group leader: run it under setsid or ctest)");
    QString error;
    m_identity = testing::identityWithCaFile(m_dir, m_caFile, &error);
    QVERIFY2(m_identity, qPrintable(error));
}

// A TLS server publishing every 2 ms behind a link of kLatency each way, on a data-plane
// thread of its own as in a run.
void TestTlsTtfe::init()
{
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    settings.replayCapacity = 100;
    m_server = std::make_unique<sse::SseServer>(settings);
    QVERIFY(m_server->start());
    for (std::uint64_t seq = 1; seq <= 3; ++seq) {
        sse::PublishedEvent e;
        e.seq = seq;
        e.publishedAt = std::chrono::steady_clock::now();
        e.event.id = QByteArray::number(static_cast<qulonglong>(seq));
        e.event.data = "tick";
        m_server->publish(e);
    }
    m_threads = std::make_unique<net::NetThreads>(1);
}

// `maxDuration`: the link ends every connection that long after it opened, as a gateway does.
bool TestTlsTtfe::startLink(std::optional<std::chrono::microseconds> maxDuration)
{
    link::LinkSettings path;
    path.latency = kLatency;
    path.maxDuration = maxDuration;
    bool listening = false;
    m_threads->runOn(0, [&] {
        m_link = std::make_unique<link::LinkProxy>(path, QHostAddress::LocalHost, m_server->port(), *m_threads->deadlines(0));
        listening = m_link->listen();
    });
    return listening;
}

void TestTlsTtfe::cleanup()
{
    if (m_threads)
        m_threads->runOn(0, [this] { m_link.reset(); });
    m_threads.reset();
    m_server.reset();
}

void TestTlsTtfe::engineSeesThreeRoundTrips_data()
{
    QTest::addColumn<http::ClientProtocol>("protocol");
    QTest::newRow("HTTP/1.1 over TLS") << http::ClientProtocol::Http1;
    QTest::newRow("HTTP/2 over TLS") << http::ClientProtocol::Http2;
}

// The first connection's full handshake and the next one's resumed handshake both take
// 3 RTT + the event wait.
void TestTlsTtfe::engineSeesThreeRoundTrips()
{
    QFETCH(http::ClientProtocol, protocol);
    QVERIFY(startLink(std::nullopt));
    warmUp(protocol);
    measureTwiceAtMost(protocol, false);
}

// A miss of the bound (the loaded machine late to wake a peer) is measured once more, both
// printed; the second must hold.
void TestTlsTtfe::measureTwiceAtMost(http::ClientProtocol protocol, bool earlyData)
{
    QString miss = measureRoundTrips(protocol, earlyData);
    if (!miss.isEmpty()) {
        qInfo("outside the bound (%s): measured once more", qPrintable(miss));
        miss = measureRoundTrips(protocol, earlyData);
    }
    QVERIFY2(miss.isEmpty(), qPrintable(miss));
}

// A new session, then a resumed one (with early data if asked: one RTT less). Returns the
// first figure outside its bound, or an empty string; fails the test on a wrong outcome.
QString TestTlsTtfe::measureRoundTrips(http::ClientProtocol protocol, bool earlyData)
{
    http::ConnectionPool::Config config;
    config.port = m_link->port();
    config.protocol = protocol;
    config.tlsEarlyData = earlyData;
    http::ConnectionPool pool(config);
    pool.setTls(m_identity->client);
    QString miss;
    for (const bool resumed : {false, true}) {
        const double rtts = resumed && earlyData ? 2 : 3;
        FirstEvent first;
        first.submittedAt = std::chrono::steady_clock::now();
        pool.submit(eventsRequest(m_link->port()), &first);
        if (!first.wait(10000)) {
            QTest::qFail(qPrintable(QStringLiteral("no event: %1").arg(first.failure)), __FILE__, __LINE__);
            return {};
        }
        qInfo("%s, %s: time to first event %.1f ms (%.0f RTT = %.0f ms, no event wait), connected after %.1f ms",
              QTest::currentDataTag(), !resumed ? "new TLS session" : earlyData ? "resumed with early data" : "resumed TLS session",
              *first.ms, rtts, rtts * kRttMs, double(first.start.connectTime.count()) / 1000);
        if (!first.start.tls)
            QTest::qFail("not TLS", __FILE__, __LINE__);
        // An HTTP/2 stream opens before the handshake ends: only early data says it resumed then.
        if ((protocol == http::ClientProtocol::Http1 || earlyData) && first.start.tlsResumed != resumed)
            QTest::qFail(resumed ? "the session was not resumed" : "a first session cannot resume", __FILE__, __LINE__);
        const double lo = rtts * kRttMs, hi = rtts * kRttMs + kSlackMs;
        if (miss.isEmpty() && (*first.ms < lo || *first.ms > hi))
            miss = within(*first.ms, lo, hi);
        QTest::qWait(int(2 * kRttMs)); // the server's TLS 1.3 tickets follow the handshake
        pool.cancel(&first);
        pool.closeAll();
    }
    if (pool.connectionsOpened() != 2)
        QTest::qFail("expected one connection per request", __FILE__, __LINE__);
    return miss;
}

// One request through the link from a pool of its own (so the measured client's first
// session stays new): the first connection runs code and loads keys nothing used yet, in the
// client, the link and the server, which is the program starting, not the path.
void TestTlsTtfe::warmUp(http::ClientProtocol protocol)
{
    http::ConnectionPool::Config config;
    config.port = m_link->port();
    config.protocol = protocol;
    http::ConnectionPool pool(config);
    pool.setTls(m_identity->client);
    FirstEvent warm;
    pool.submit(eventsRequest(m_link->port()), &warm);
    QVERIFY2(warm.wait(10000), qPrintable(warm.failure));
    pool.cancel(&warm);
    pool.closeAll();
}

void TestTlsTtfe::curlSeesTheSameRoundTrips_data()
{
    QTest::addColumn<QString>("version");
    QTest::newRow("curl --http1.1") << QStringLiteral("--http1.1");
    QTest::newRow("curl --http2") << QStringLiteral("--http2");
}

// curl's own timers: TCP connected after 1 RTT (the link holds the SYN, as root; otherwise
// the connection's first bytes pay that round trip and connect takes none), TLS after 2, the
// response's first byte after 3 — for a new session and for a resumed one alike.
void TestTlsTtfe::curlSeesTheSameRoundTrips()
{
    QFETCH(QString, version);
    const QString curlPath = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (curlPath.isEmpty())
        QSKIP("curl is not installed (scripts/dev installs it)");
    // The link ends each connection 5 RTT after it opened, past its first event, so curl's
    // second URL takes a new connection (an HTTP/2 one would carry it otherwise).
    QVERIFY(startLink(std::chrono::microseconds(std::llround(5 * kRttMs * 1000))));
    warmUp(http::ClientProtocol::Http1);
    const QString url = QStringLiteral("https://127.0.0.1:%1/events").arg(m_link->port());
    const double maxSeconds = 10 * kRttMs / 1000;
    QProcess curl;
    curl.start(curlPath, {version, QStringLiteral("-sSNv"), QStringLiteral("--tlsv1.3"), QStringLiteral("--cacert"), m_caFile,
                          QStringLiteral("--max-time"), QString::number(maxSeconds), QStringLiteral("-o"), QStringLiteral("/dev/null"),
                          QStringLiteral("-o"), QStringLiteral("/dev/null"), // one for each URL
                          QStringLiteral("-w"), QStringLiteral("%{time_connect} %{time_appconnect} %{time_starttransfer}\n"), url, url});
    QVERIFY(curl.waitForFinished(30000));
    const QByteArray err = curl.readAllStandardError();
    const QList<QByteArray> lines = curl.readAllStandardOutput().trimmed().split('\n');
    QVERIFY2(lines.size() == 2, err.constData());
    QVERIFY2(err.contains("SSL re-using session ID"), err.constData()); // the second connection resumed
    const bool synHeld = m_link->connectNote().isEmpty();
    const double connectLo = synHeld ? kRttMs : 0;
    for (int i = 0; i < 2; ++i) {
        const QList<QByteArray> t = lines[i].split(' ');
        QCOMPARE(t.size(), 3);
        const double connect = t[0].toDouble() * 1000, tls = t[1].toDouble() * 1000, first = t[2].toDouble() * 1000;
        qInfo("%s, %s TLS session: connect %.1f ms, TLS %.1f ms, first byte %.1f ms (RTT %.0f ms%s)", QTest::currentDataTag(),
              i ? "resumed" : "new", connect, tls, first, kRttMs, synHeld ? "" : "; SYN not held, connect takes no RTT");
        QVERIFY2(connect >= connectLo && connect <= connectLo + kSlackMs, qPrintable(within(connect, connectLo, connectLo + kSlackMs)));
        QVERIFY2(tls >= 2 * kRttMs && tls <= 2 * kRttMs + kSlackMs, qPrintable(within(tls, 2 * kRttMs, 2 * kRttMs + kSlackMs)));
        QVERIFY2(first >= 3 * kRttMs && first <= 3 * kRttMs + kSlackMs, qPrintable(within(first, 3 * kRttMs, 3 * kRttMs + kSlackMs)));
    }
}

void TestTlsTtfe::earlyDataSavesARoundTrip_data()
{
    engineSeesThreeRoundTrips_data();
}

// With early data the first connection still takes 3 RTT (no ticket yet); the next one
// resumes and sends its request with the ClientHello: TCP (1 RTT) + ClientHello with the
// request to the server's answer (1 RTT). No client without early data can get under 3 RTT.
void TestTlsTtfe::earlyDataSavesARoundTrip()
{
    QFETCH(http::ClientProtocol, protocol);
    QVERIFY(startLink(std::nullopt));
    warmUp(protocol);
    measureTwiceAtMost(protocol, true);
}

double TestTlsTtfe::sClientFirstByte(const QStringList &sessionArgs, const QString &requestFile, QByteArray *log)
{
    QProcess client;
    client.setProcessChannelMode(QProcess::MergedChannels);
    // Line-buffered, so each line is read when s_client prints it.
    QStringList args{QStringLiteral("-oL"), QStringLiteral("openssl"), QStringLiteral("s_client"),
                     QStringLiteral("-connect"), QStringLiteral("127.0.0.1:%1").arg(m_link->port()),
                     QStringLiteral("-tls1_3"), QStringLiteral("-alpn"), QStringLiteral("http/1.1"),
                     QStringLiteral("-CAfile"), m_caFile, QStringLiteral("-ign_eof")};
    args << sessionArgs;
    client.start(QStringLiteral("stdbuf"), args);
    if (!client.waitForStarted(10000))
        return -1;
    if (!requestFile.isEmpty() && !sessionArgs.contains(QStringLiteral("-early_data"))) {
        QFile f(requestFile);
        if (f.open(QIODevice::ReadOnly))
            client.write(f.readAll());
    }
    std::optional<std::chrono::steady_clock::time_point> connectedAt, firstByteAt;
    QByteArray out;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!firstByteAt && std::chrono::steady_clock::now() < deadline && client.state() == QProcess::Running) {
        client.waitForReadyRead(50);
        while (client.canReadLine()) {
            const QByteArray line = client.readLine();
            out += line;
            if (!connectedAt && line.startsWith("CONNECTED("))
                connectedAt = std::chrono::steady_clock::now();
            if (!firstByteAt && line.startsWith("HTTP/1.1 "))
                firstByteAt = std::chrono::steady_clock::now();
        }
    }
    QTest::qWait(int(2 * kRttMs)); // the server's tickets, for -sess_out
    client.terminate();
    client.waitForFinished(5000);
    *log = out + client.readAll();
    if (!connectedAt || !firstByteAt)
        return -1;
    return std::chrono::duration<double, std::milli>(*firstByteAt - *connectedAt).count();
}

// openssl s_client, an independent client: its first connection (full handshake) gets the
// response 2 RTT after its TCP connect; the next one, resuming with the request as early data,
// 1 RTT after it.
void TestTlsTtfe::opensslEarlyDataSavesARoundTrip()
{
    if (QStandardPaths::findExecutable(QStringLiteral("openssl")).isEmpty()
        || QStandardPaths::findExecutable(QStringLiteral("stdbuf")).isEmpty())
        QSKIP("openssl or stdbuf is not installed (scripts/dev installs openssl; stdbuf is coreutils)");
    QVERIFY(startLink(std::nullopt));
    warmUp(http::ClientProtocol::Http1);
    const QString session = m_dir.filePath(QStringLiteral("session.pem"));
    const QString request = m_dir.filePath(QStringLiteral("request.txt"));
    {
        QFile f(request);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nLast-Event-ID: 0\r\n\r\n");
    }
    QByteArray log;
    const double full = sClientFirstByte({QStringLiteral("-sess_out"), session}, request, &log);
    QVERIFY2(full >= 0, log.constData());
    qInfo("openssl s_client, new session: first response byte %.1f ms after TCP connect (2 RTT = %.0f ms)", full, 2 * kRttMs);
    QVERIFY2(full >= 2 * kRttMs && full <= 2 * kRttMs + kSlackMs, qPrintable(within(full, 2 * kRttMs, 2 * kRttMs + kSlackMs)));
    const double early = sClientFirstByte({QStringLiteral("-sess_in"), session, QStringLiteral("-early_data"), request}, request, &log);
    QVERIFY2(early >= 0, log.constData());
    QVERIFY2(log.contains("Early data was accepted"), log.constData());
    qInfo("openssl s_client, resumed with early data: first response byte %.1f ms after TCP connect (1 RTT = %.0f ms)", early,
          kRttMs);
    QVERIFY2(early >= kRttMs && early <= kRttMs + kSlackMs, qPrintable(within(early, kRttMs, kRttMs + kSlackMs)));
}

QTEST_GUILESS_MAIN(TestTlsTtfe)
#include "tst_tlsttfe.moc"
