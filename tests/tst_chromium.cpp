// Real Chromium (headless, Debian's /usr/bin/chromium) on the test page against our
// server: HTTP/2 over TLS multiplexes 8 EventSources on one connection; HTTP/1.1 gives 6
// of them a connection and leaves 2 waiting. The page reports what each EventSource saw to
// a second server (another origin, so the report does not take one of the 6 connections).
// Cross-origin: a withCredentials EventSource and a fetch() client sending Last-Event-ID
// (preflighted) both receive events. Reconnect after a gateway close: the server sees the
// new request `retry` after the old stream ended, resuming with Last-Event-ID.
#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/net/netthreads.h"
#include "core/sse/sseserver.h"
#include "core/tls/tlsidentity.h"
#include "core/util/sessionpriority.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <functional>

#include <csignal>

#include <unistd.h>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

QString chromiumPath()
{
    const QString debian = QStringLiteral("/usr/bin/chromium");
    return QFileInfo::exists(debian) ? debian : QStandardPaths::findExecutable(QStringLiteral("chromium"));
}

// One headless browser with its own profile, killed on destruction.
class Chromium
{
public:
    Chromium(const QString &url, const QByteArray &spki)
    {
        QStringList args{QStringLiteral("--headless=new"), QStringLiteral("--disable-gpu"),
                         QStringLiteral("--no-first-run"), QStringLiteral("--no-default-browser-check"),
                         QStringLiteral("--user-data-dir=") + m_profile.path(),
                         QStringLiteral("--ignore-certificate-errors-spki-list=") + QString::fromLatin1(spki)};
        if (::geteuid() == 0)
            args << QStringLiteral("--no-sandbox");
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        // A session of its own, so one process group (stopped with every process it starts)
        // and one scheduling group, raised by runAhead() once it has started up.
        m_process.setChildProcessModifier([] { ::setsid(); });
        m_process.start(chromiumPath(), args << url);
    }
    // On a machine shared with builds, a browser at normal priority fires its timers late; as
    // root its session runs ahead of them (what a desktop's foreground browser gets). Raised
    // from launch, its start-up (a second or two of CPU) would starve the test's own servers
    // and link instead.
    void runAhead() { util::raiseSessionOf(static_cast<long>(m_process.processId())); }
    ~Chromium()
    {
        const qint64 pid = m_process.processId();
        if (pid > 0)
            ::kill(static_cast<pid_t>(-pid), SIGKILL);
        m_process.waitForFinished(10000);
    }
    bool started() { return m_process.waitForStarted(10000); }
    QByteArray log() { return m_process.readAll(); }

private:
    QTemporaryDir m_profile;
    QProcess m_process;
};

QJsonArray streams(const QByteArray &report)
{
    return QJsonDocument::fromJson(report).array();
}

// Publishes "tick" events with ids 1, 2, ... every `interval` while alive.
class Ticker
{
public:
    Ticker(sse::SseServer &server, std::chrono::milliseconds interval)
    {
        QObject::connect(&m_timer, &QTimer::timeout, [this, &server] {
            sse::PublishedEvent e;
            e.seq = ++m_seq;
            e.publishedAt = std::chrono::steady_clock::now();
            e.event.id = QByteArray::number(static_cast<qulonglong>(e.seq));
            e.event.data = "tick";
            server.publish(e);
        });
        m_timer.start(interval);
    }
    std::uint64_t published() const { return m_seq; }

private:
    QTimer m_timer;
    std::uint64_t m_seq = 0;
};

int count(const QJsonArray &all, const std::function<bool(const QJsonObject &)> &pred)
{
    int n = 0;
    for (const auto &v : all)
        n += pred(v.toObject()) ? 1 : 0;
    return n;
}

} // namespace

class TestChromium final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void eightStreamsOnOneConnection_data();
    void eightStreamsOnOneConnection();
    void crossOriginClientsReceive_data();
    void crossOriginClientsReceive();
    void reconnectAfterGatewayCloseWaitsRetry();

private:
    std::shared_ptr<const tls::TlsIdentity> m_identity;
};

void TestChromium::initTestCase()
{
    if (chromiumPath().isEmpty())
        QSKIP("chromium is not installed (scripts/dev installs it)");
    // The servers and the link measure the browser's timing to the millisecond: as root they
    // run ahead of the builds sharing the machine (threads started from here inherit it).
    if (!util::runAheadOfOtherSessions())
        qInfo("not raised ahead of other sessions (not root, or a process group leader: run it under setsid or ctest)");
    QString error;
    m_identity = tls::TlsIdentity::make(nullptr, &error);
    QVERIFY2(m_identity, qPrintable(error));
}

void TestChromium::eightStreamsOnOneConnection_data()
{
    QTest::addColumn<bool>("https");
    QTest::addColumn<int>("delivering");
    QTest::addColumn<int>("waiting");
    QTest::newRow("https + HTTP/2: all 8 on one connection") << true << 8 << 0;
    QTest::newRow("http + HTTP/1.1: 6 deliver, 2 wait") << false << 6 << 2;
}

void TestChromium::eightStreamsOnOneConnection()
{
    QFETCH(bool, https);
    QFETCH(int, delivering);
    QFETCH(int, waiting);
    sse::ServerSettings settings;
    settings.tls = m_identity->server;
    settings.replayCapacity = 0;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    sse::SseServer reports(settings);
    QVERIFY(reports.start());

    std::uint64_t seq = 0;
    QTimer publisher;
    QObject::connect(&publisher, &QTimer::timeout, [&] {
        sse::PublishedEvent e;
        e.seq = ++seq;
        e.publishedAt = std::chrono::steady_clock::now();
        e.event.id = QByteArray::number(static_cast<qulonglong>(e.seq));
        e.event.data = "tick";
        server.publish(e);
    });
    publisher.start(50ms);

    const QString scheme = https ? QStringLiteral("https") : QStringLiteral("http");
    const QString page = QStringLiteral("%1://127.0.0.1:%2/client.html?streams=8&path=/events&report=%1://127.0.0.1:%3/report")
                             .arg(scheme).arg(server.port()).arg(reports.port());
    Chromium chromium(page, m_identity->credentials.spkiSha256Base64);
    QVERIFY(chromium.started());
    QTRY_VERIFY_WITH_TIMEOUT(!reports.lastReport().isEmpty(), 30000);
    chromium.runAhead();
    // Every stream that can deliver has had several events, and the report says so.
    QTRY_VERIFY2_WITH_TIMEOUT(count(streams(reports.lastReport()), [](const QJsonObject &s) {
                                  return s.value(QStringLiteral("events")).toInt() >= 5;
                              }) == delivering,
                              qPrintable(QString::fromUtf8(reports.lastReport() + "\n" + chromium.log())), 30000);
    QTest::qWait(1000); // a waiting stream would have been admitted by now if it could be
    const QJsonArray all = streams(reports.lastReport());
    QCOMPARE(all.size(), 8);
    QCOMPARE(count(all, [](const QJsonObject &s) { return s.value(QStringLiteral("events")).toInt() >= 5; }), delivering);
    QCOMPARE(count(all, [](const QJsonObject &s) {
                 return s.value(QStringLiteral("readyState")).toInt() == 0 && s.value(QStringLiteral("events")).toInt() == 0;
             }), waiting);
    const sse::ServerStats stats = server.stats();
    QCOMPARE(stats.streamsOpen, qint64(delivering));
    if (https) {
        // One HTTP/2 connection carries all eight at once (with the page's own requests;
        // Chromium may open a spare connection).
        QVERIFY2(stats.http2StreamsMax >= 8, qPrintable(QString::number(stats.http2StreamsMax)));
    } else {
        QCOMPARE(stats.http2Connections, qint64{0});
        QCOMPARE(stats.connectionsOpen, qint64{6});
    }
}

void TestChromium::crossOriginClientsReceive_data()
{
    QTest::addColumn<QString>("query");
    QTest::addColumn<bool>("fetchClient");
    QTest::newRow("withCredentials EventSource") << QStringLiteral("credentials=1") << false;
    QTest::newRow("fetch client with Last-Event-ID") << QStringLiteral("client=fetch&lastEventId=3&credentials=1") << true;
}

void TestChromium::crossOriginClientsReceive()
{
    QFETCH(QString, query);
    QFETCH(bool, fetchClient);
    sse::ServerSettings settings;
    settings.replayCapacity = 1000;
    settings.retry = 1000ms;
    sse::SseServer events(settings);
    QVERIFY(events.start());
    sse::SseServer pageOrigin(settings); // the page and its reports: another origin
    QVERIFY(pageOrigin.start());
    Ticker ticker(events, 50ms);
    QTRY_VERIFY(ticker.published() >= 6); // so that Last-Event-ID 3 has events to replay

    const QString page = QStringLiteral("http://127.0.0.1:%1/client.html?streams=1&url=http://127.0.0.1:%2/events&%3"
                                        "&report=http://127.0.0.1:%1/report")
                             .arg(pageOrigin.port()).arg(events.port()).arg(query);
    Chromium chromium(page, m_identity->credentials.spkiSha256Base64);
    QVERIFY(chromium.started());
    QTRY_VERIFY2_WITH_TIMEOUT(count(streams(pageOrigin.lastReport()), [](const QJsonObject &s) {
                                  return s.value(QStringLiteral("events")).toInt() >= 5;
                              }) == 1,
                              qPrintable(QString::fromUtf8(pageOrigin.lastReport() + "\n" + chromium.log())), 30000);
    const QByteArray pageOriginText = "http://127.0.0.1:" + QByteArray::number(pageOrigin.port());
    const std::vector<sse::StreamRecord> log = events.streamLog();
    QVERIFY(!log.empty());
    const auto get = std::find_if(log.begin(), log.end(), [](const sse::StreamRecord &r) { return r.method == "GET"; });
    QVERIFY(get != log.end());
    QCOMPARE(get->origin, pageOriginText); // cross-origin, and answered with that origin and credentials
    if (fetchClient) {
        // Last-Event-ID is not a safelisted header: Chromium asked first, then resumed after 3.
        QCOMPARE(log.front().method, QByteArray("OPTIONS"));
        QCOMPARE(get->lastEventId, QByteArray("3"));
        QVERIFY(events.stats().replaysComplete >= 1);
        QVERIFY(events.stats().eventsReplayed >= 3);
    }
}

void TestChromium::reconnectAfterGatewayCloseWaitsRetry()
{
    sse::ServerSettings settings;
    settings.replayCapacity = 1000;
    settings.retry = 1000ms;
    sse::SseServer server(settings);
    QVERIFY(server.start());
    sse::SseServer reports(settings);
    QVERIFY(reports.start());
    Ticker ticker(server, 50ms);

    // A gateway that closes every connection after 2.5 s, on a link with no delay: the
    // server sees the old stream end and the new request arrive as the browser does.
    // On a data-plane thread of its own, as in a run.
    net::NetThreads threads(1);
    link::LinkSettings gateway;
    gateway.maxDuration = 2500ms; // the first close comes once the fresh browser has settled
    std::unique_ptr<link::LinkProxy> proxy;
    bool listening = false;
    threads.runOn(0, [&] {
        proxy = std::make_unique<link::LinkProxy>(gateway, QHostAddress::LocalHost, server.port(), *threads.deadlines(0));
        listening = proxy->listen();
    });
    const auto stopProxy = qScopeGuard([&] { threads.runOn(0, [&] { proxy.reset(); }); });
    QVERIFY(listening);

    const QString page = QStringLiteral("http://127.0.0.1:%1/client.html?streams=1&path=/events&report=http://127.0.0.1:%2/report")
                             .arg(proxy->port()).arg(reports.port());
    Chromium chromium(page, m_identity->credentials.spkiSha256Base64);
    QVERIFY(chromium.started());
    QTRY_VERIFY_WITH_TIMEOUT(!reports.lastReport().isEmpty(), 30000); // the page runs: the browser is up
    chromium.runAhead();
    const auto streamsSeen = [&] {
        int n = 0;
        for (const sse::StreamRecord &r : server.streamLog())
            n += r.method == "GET" ? 1 : 0;
        return n;
    };
    QTRY_VERIFY2_WITH_TIMEOUT(streamsSeen() >= 4, qPrintable(QString::fromUtf8(chromium.log())), 30000);
    std::vector<sse::StreamRecord> log;
    for (const sse::StreamRecord &r : server.streamLog())
        if (r.method == "GET")
            log.push_back(r);
    std::vector<double> waits;
    for (std::size_t i = 1; i < log.size() && log[i - 1].endedAt; ++i) {
        waits.push_back(std::chrono::duration<double, std::milli>(log[i].requestedAt - *log[i - 1].endedAt).count());
        qInfo("reconnect %zu: the new request arrived %.2f ms after the gateway closed the stream (retry 1000 ms), "
              "Last-Event-ID %s", i, waits.back(), log[i].lastEventId.constData());
        QVERIFY(!log[i].lastEventId.isEmpty());
    }
    QVERIFY(waits.size() >= 3);
    for (double waitMs : waits)
        QVERIFY2(std::abs(waitMs - 1000.0) <= 5.0, qPrintable(QString::number(waitMs)));
    QVERIFY(server.stats().replaysComplete >= 2);
    QCOMPARE(server.stats().eventsLostInGaps, qint64(0));
}

QTEST_GUILESS_MAIN(TestChromium)
#include "tst_chromium.moc"
