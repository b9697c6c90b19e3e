// curl through `edgesse serve`'s population URLs: connect takes the link's round trip and the
// first response byte two (three over TLS), as a real path of that RTT would give.

#include "core/scenario/scenario.h"

#include <QFile>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <csignal>
#include <vector>

#include <unistd.h>

using namespace edgesse;

namespace {

const char *const kScenario = R"(name: connect through serve
seed: 3
duration: 60s
nodes:
  origin: { kind: origin, region: eu-west }
clients:
  - { name: near, count: 1, near: origin }
  - { name: far, count: 1, near: origin }
links:
  - { between: [near, origin], latency: 10ms }
  - { between: [far, origin], latency: 40ms }
publisher: { at: origin, rate: 1/s, payload: 64B }
sse: { heartbeat: 15s }
variants:
  - { name: v, placement: central, protocol: http1 }
)";

double roundTripMs(const scenario::Variant &variant, const QString &population)
{
    for (const scenario::Link &link : variant.links)
        if (link.a == population || link.b == population)
            return std::chrono::duration<double, std::milli>(link.rtt()).count();
    return -1;
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

class TestServeConnect final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cleanupTestCase();
    void curlTimings_data();
    void curlTimings();

private:
    struct Timings {
        double connect = -1;
        double appConnect = -1;
        double firstByte = -1;
    };
    bool measure(const QString &origin, const QString &url, bool tls, const QString &http, Timings &direct,
                 Timings &through);

    QTemporaryDir m_dir;
    QProcess m_serve;
    QMap<QString, QString> m_urls;
    QString m_curl;
    std::optional<scenario::Scenario> m_scenario;
};

void TestServeConnect::initTestCase()
{
    if (::geteuid() != 0)
        QSKIP("connect() through a link takes the RTT only as root (NFQUEUE holds the SYNs); as another user the "
              "handshake is charged to the first bytes. Run this test as root to check it.");
    m_curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (m_curl.isEmpty())
        QSKIP("curl is not installed (Debian: apt-get install curl)");
    const QString file = m_dir.filePath(QStringLiteral("connect.yaml"));
    QFile out(file);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(kScenario);
    out.close();
    scenario::LoadResult loaded = scenario::load(file);
    QVERIFY(loaded.ok());
    m_scenario = std::move(*loaded.scenario);

    m_serve.start(QStringLiteral(EDGESSE_BINARY_DIR "/app/edgesse"), {QStringLiteral("serve"), file});
    QVERIFY(m_serve.waitForStarted());
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            while (m_serve.canReadLine()) {
                const QStringList words = QString::fromUtf8(m_serve.readLine()).trimmed().split(QLatin1Char(' '));
                if (words.size() == 2)
                    m_urls.insert(words[0], words[1]);
            }
            return m_urls.contains(QStringLiteral("tls-spki"));
        }(),
        30'000);
    const QString err = QString::fromUtf8(m_serve.readAllStandardError());
    QVERIFY2(!err.contains(QStringLiteral("returns at once")), qPrintable(err));
}

void TestServeConnect::cleanupTestCase()
{
    if (m_serve.state() == QProcess::NotRunning)
        return;
    ::kill(pid_t(m_serve.processId()), SIGTERM);
    QVERIFY(m_serve.waitForFinished(15'000));
    QCOMPARE(m_serve.exitCode(), 0);
}

void TestServeConnect::curlTimings_data()
{
    QTest::addColumn<QString>("population");
    QTest::addColumn<bool>("tls");
    QTest::addColumn<QString>("http");
    for (const char *population : {"near", "far"}) {
        const QString name = QString::fromLatin1(population);
        QTest::addRow("%s http/1.1", population) << name << false << QStringLiteral("--http1.1");
        QTest::addRow("%s https http/1.1", population) << name << true << QStringLiteral("--http1.1");
        QTest::addRow("%s https h2", population) << name << true << QStringLiteral("--http2");
    }
}

void TestServeConnect::curlTimings()
{
    QFETCH(QString, population);
    QFETCH(bool, tls);
    QFETCH(QString, http);
    const double rtt = roundTripMs(m_scenario->variants.front(), population);
    QVERIFY(rtt > 0);
    const QString url = m_urls.value(tls ? population + QStringLiteral(".https") : population);
    QVERIFY2(!url.isEmpty(), qPrintable(population));
    const QString origin = m_urls.value(tls ? QStringLiteral("origin.https") : QStringLiteral("origin"));
    Timings direct;
    Timings through;
    QVERIFY(measure(origin, url, tls, http, direct, through));
    // Without a link (straight at the origin) a connect costs nothing, and the TLS handshake
    // and the first byte only what this machine takes to compute them; through the link add
    // one RTT for the connect, one for the TLS handshake and one for the request.
    const double roundTrips = tls ? 3 : 2;
    const double expectedTls = 2 * rtt + (direct.appConnect - direct.connect);
    const double expectedFirstByte = roundTrips * rtt + (direct.firstByte - direct.connect);
    qInfo("rtt %.0f ms; without the link: tls done %.1f ms, first byte %.1f ms after connect; through it: connect %.1f "
          "ms (expected %.1f), tls done %.1f (%.1f), first byte %.1f (%.1f)",
          rtt, direct.appConnect - direct.connect, direct.firstByte - direct.connect, through.connect, rtt,
          through.appConnect, tls ? expectedTls : 0.0, through.firstByte, expectedFirstByte);
    const auto near = [](double measured, double expected) {
        return std::abs(measured - expected) <= std::max(0.15 * expected, 3.0);
    };
    QVERIFY2(near(through.connect, rtt), "connect");
    if (tls)
        QVERIFY2(near(through.appConnect, expectedTls), "TLS handshake done");
    QVERIFY2(near(through.firstByte, expectedFirstByte), "first byte");
}

// Seven fresh curls at `origin` and at `url` in turn, so both see the same load; the median of
// each figure in ms, so a curl the loaded machine scheduled late does not decide (every figure
// is printed). curl runs at nice -5: what is timed is the link, not curl's turn on a busy CPU.
bool TestServeConnect::measure(const QString &origin, const QString &url, bool tls, const QString &http,
                               Timings &direct, Timings &through)
{
    QStringList args{QStringLiteral("-n"), QStringLiteral("-5"), m_curl, QStringLiteral("-sN"), http,
                     QStringLiteral("-o"), QStringLiteral("/dev/null"), QStringLiteral("--max-time"),
                     QStringLiteral("1"), QStringLiteral("-w"),
                     QStringLiteral("%{time_connect} %{time_appconnect} %{time_starttransfer}")};
    if (tls)
        args << QStringLiteral("--cacert") << m_urls.value(QStringLiteral("tls-ca"));
    std::vector<double> figures[2][3];
    for (int attempt = 0; attempt < 7; ++attempt) {
        for (int which = 0; which < 2; ++which) {
            const QString &target = which == 0 ? origin : url;
            QProcess curl;
            curl.start(QStringLiteral("nice"), args + QStringList{target});
            if (!curl.waitForFinished(15'000))
                return false;
            const QStringList times = QString::fromUtf8(curl.readAllStandardOutput()).split(QLatin1Char(' '));
            if (times.size() != 3)
                return false;
            for (int i = 0; i < 3; ++i)
                figures[which][i].push_back(times[i].toDouble() * 1e3);
            qInfo("%s: connect %.1f ms, tls done %.1f ms, first byte %.1f ms", qPrintable(target),
                  figures[which][0].back(), figures[which][1].back(), figures[which][2].back());
        }
    }
    direct = {median(figures[0][0]), median(figures[0][1]), median(figures[0][2])};
    through = {median(figures[1][0]), median(figures[1][1]), median(figures[1][2])};
    return true;
}

QTEST_GUILESS_MAIN(TestServeConnect)
#include "tst_serve_connect.moc"
