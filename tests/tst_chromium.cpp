// Real Chromium (headless, Debian's /usr/bin/chromium) on the test page against our
// server: HTTP/2 over TLS multiplexes 8 EventSources on one connection; HTTP/1.1 gives 6
// of them a connection and leaves 2 waiting. The page reports what each EventSource saw to
// a second server (another origin, so the report does not take one of the 6 connections).
#include "core/sse/sseserver.h"
#include "core/tls/tlsidentity.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <chrono>
#include <functional>

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
        m_process.start(chromiumPath(), args << url);
    }
    ~Chromium()
    {
        m_process.kill();
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

private:
    std::shared_ptr<const tls::TlsIdentity> m_identity;
};

void TestChromium::initTestCase()
{
    if (chromiumPath().isEmpty())
        QSKIP("chromium is not installed (scripts/dev installs it)");
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

QTEST_GUILESS_MAIN(TestChromium)
#include "tst_chromium.moc"
