// The cross-check of scenarios/real-vs-simulated-browser.yaml: one real headless Chromium
// and one simulated chromium-profile browser on the same paths must agree on starvation
// (exactly), on the HTTP/2 per-stream first-event spread (±5 ms) and on the median time to
// first event (±5%) — and both must match what the path implies from first principles.
#include "simtesthelpers.h"

#include "core/sse/chromiumprocess.h"
#include "core/util/sessionpriority.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <vector>


using namespace edgesse;
using namespace std::chrono_literals;

namespace {

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    if (v.empty())
        return -1;
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

struct Population {
    int starved = 0;
    std::vector<double> ttfe;      // ms, streams that got an event
    std::vector<double> reconnect; // ms, streams that reconnected: the first time, end to response
    double p50() const { return median(ttfe); }
    double spread() const
    {
        if (ttfe.empty())
            return -1;
        const auto [lo, hi] = std::minmax_element(ttfe.begin(), ttfe.end());
        return *hi - *lo;
    }
};

Population population(const metrics::VariantResult &r, const QString &group)
{
    Population p;
    for (const metrics::StreamSummary &s : r.streamSummaries) {
        if (s.group != group)
            continue;
        p.starved += s.starved ? 1 : 0;
        if (s.timeToFirstEventMs >= 0)
            p.ttfe.push_back(s.timeToFirstEventMs);
        if (s.reconnectMs >= 0)
            p.reconnect.push_back(s.reconnectMs);
    }
    return p;
}

int chromiumLeft()
{
    const QByteArray profile = "--user-data-dir=" + QDir::tempPath().toLocal8Bit() + "/tst_realbrowser-";
    int n = 0;
    for (const QString &entry : QDir(QStringLiteral("/proc")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        QFile f(QStringLiteral("/proc/%1/cmdline").arg(entry));
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(profile))
            ++n;
    }
    return n;
}

} // namespace

class TestRealBrowser final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void realBrowsersRunAtTimeScaleOne();
    void agreesWithTheSimulatedProfile_data();
    void agreesWithTheSimulatedProfile();

private:
    // This process's temporary directory (TMPDIR), so the browsers it counts are its own and
    // not those of another run of this test on the machine.
    QTemporaryDir m_tmp;
    QString compareReconnects(const QString &variant, const Population &real, const Population &sim,
                              std::chrono::milliseconds retry, double connectMs);
};

void TestRealBrowser::initTestCase()
{
    if (sse::ChromiumProcess::executable().isEmpty())
        QSKIP("chromium is not installed (scripts/dev installs it)");
    QVERIFY(m_tmp.isValid());
    qputenv("TMPDIR", m_tmp.path().toLocal8Bit()); // the browsers' profiles go under it
    // The run's threads (started from here, so they inherit it) and the browsers (raised by
    // ChromiumProcess) run ahead of the builds sharing the machine when that is allowed.
    if (!util::runAheadOfOtherSessions())
        qInfo("not raised ahead of other sessions (not root, or a process group leader: run it under setsid or ctest)");
}

void TestRealBrowser::realBrowsersRunAtTimeScaleOne()
{
    const scenario::Scenario s = simtest::loadBundled(QStringLiteral("real-vs-simulated-browser"));
    QVERIFY(s.question.startsWith(QLatin1String("Does the simulated chromium profile")));
    for (const scenario::Variant &v : s.variants)
        QVERIFY2(v.timeDilationRefusal().contains(QLatin1String("real browsers (chrome)")), qPrintable(v.timeDilationRefusal()));
}

void TestRealBrowser::agreesWithTheSimulatedProfile_data()
{
    QTest::addColumn<QString>("variant");
    QTest::addColumn<int>("starved");      // of 8: HTTP/1.1's 6 connections per host
    QTest::addColumn<double>("roundTrips"); // to the first event: TCP (+ TLS 1.3) + the request
    QTest::addColumn<bool>("gatewayClose"); // a gateway ends every connection after 3 s
    QTest::newRow("http1") << QStringLiteral("http1") << 2 << 2.0 << false;
    QTest::newRow("https-h2") << QStringLiteral("https-h2") << 0 << 3.0 << true;
}

// Real Chromium's timing carries the machine's wake-ups: one late wake-up moves all 8 streams
// of a run together, so one run is one sample. A run whose real-against-simulated timing
// misses its bound is measured once more, both runs' figures printed; the second must hold.
// Counts (starvation) and the simulated side's first-principles bounds hold on every run.
void TestRealBrowser::agreesWithTheSimulatedProfile()
{
    QFETCH(QString, variant);
    QFETCH(int, starved);
    QFETCH(double, roundTrips);
    QFETCH(bool, gatewayClose);
    const scenario::Scenario s = simtest::loadBundled(QStringLiteral("real-vs-simulated-browser"));
    const scenario::Variant v = simtest::variantNamed(s, variant);
    constexpr int kRuns = 2;
    for (int run = 1; run <= kRuns; ++run) {
        const simtest::Outcome out = simtest::runVariant(v);
        QVERIFY2(out.result, qPrintable(out.error));
        QCOMPARE(chromiumLeft(), 0); // every browser stopped with its children
        const Population real = population(*out.result, QStringLiteral("chrome"));
        const Population sim = population(*out.result, QStringLiteral("simulated"));
        const double rttMs = 2 * 50.0;
        qInfo("%s, run %d: starved real %d simulated %d (expected %d); TTFE p50 real %.1f ms simulated %.1f ms (path: %.0f RTT = "
              "%.0f ms + up to 2 ms event wait); first-event spread real %.1f ms simulated %.1f ms",
              qPrintable(variant), run, real.starved, sim.starved, starved, real.p50(), sim.p50(), roundTrips, roundTrips * rttMs,
              real.spread(), sim.spread());
        QCOMPARE(real.starved, starved);
        QCOMPARE(sim.starved, starved);
        QCOMPARE(int(real.ttfe.size()), 8 - starved);
        QCOMPARE(int(sim.ttfe.size()), 8 - starved);
        // First principles: the path's round trips, plus the wait for the next event (2 ms
        // apart) and what the loaded machine adds — far less than one more round trip.
        QVERIFY2(sim.p50() >= roundTrips * rttMs && sim.p50() <= roundTrips * rttMs + 0.25 * rttMs, qPrintable(QString::number(sim.p50())));
        QString missed;
        if (gatewayClose) {
            missed = compareReconnects(variant, real, sim, std::chrono::duration_cast<std::chrono::milliseconds>(v.sse.retry), roundTrips * rttMs);
            if (QTest::currentTestFailed())
                return;
        }
        if (std::abs(real.p50() - sim.p50()) > 0.05 * sim.p50())
            missed += QStringLiteral(" TTFE p50 %1 vs %2 ms (bound 5%);").arg(real.p50()).arg(sim.p50());
        if (variant == QLatin1String("https-h2") && std::abs(real.spread() - sim.spread()) > 5.0)
            missed += QStringLiteral(" first-event spread %1 vs %2 ms (bound 5 ms);").arg(real.spread()).arg(sim.spread());
        if (missed.isEmpty())
            return;
        if (run == kRuns)
            QFAIL(qPrintable(QStringLiteral("real against simulated, run %1:%2").arg(run).arg(missed)));
        qInfo("%s, run %d missed:%s measuring once more", qPrintable(variant), run, qPrintable(missed));
    }
}

// After the gateway's close every stream waits `retry` (no backoff, no jitter), then pays
// the new connection's round trips. The simulated side is checked against that here; what
// the real side missed of "within 5 ms of the simulated" is returned.
QString TestRealBrowser::compareReconnects(const QString &variant, const Population &real, const Population &sim,
                                           std::chrono::milliseconds retry, double connectMs)
{
    const double realMs = median(real.reconnect);
    const double simMs = median(sim.reconnect);
    const double expectedMs = double(retry.count()) + connectMs;
    qInfo("%s: reconnect after the gateway's close, end of stream to the next response, p50 real %.1f ms (%zu streams) "
          "simulated %.1f ms (%zu streams); expected retry %lld ms + %.0f ms to reconnect = %.0f ms",
          qPrintable(variant), realMs, real.reconnect.size(), simMs, sim.reconnect.size(), static_cast<long long>(retry.count()),
          connectMs, expectedMs);
    [&] {
        QCOMPARE(int(real.reconnect.size()), int(real.ttfe.size()));
        QCOMPARE(int(sim.reconnect.size()), int(sim.ttfe.size()));
        QVERIFY2(simMs >= expectedMs && simMs <= expectedMs + 0.25 * connectMs / 3, qPrintable(QString::number(simMs)));
    }();
    if (std::abs(realMs - simMs) > 5.0)
        return QStringLiteral(" reconnect %1 vs %2 ms (bound 5 ms);").arg(realMs).arg(simMs);
    return {};
}

QTEST_GUILESS_MAIN(TestRealBrowser)
#include "tst_realbrowser.moc"
