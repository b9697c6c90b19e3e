// A 4,000-stream world at the time scale `auto` chooses tells the same per-stream story as
// 200 streams of that world at scale 1: latency p50, the spread of first-event times,
// starvation and reconnects. Expectations from the topology itself (path, browsers, HTTP/1.1's
// six connections), and the small undilated run as the reference.

#include "core/sim/run.h"
#include "core/sim/timescalesearch.h"
#include "tests/support/directvariant.h"

#include <QTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

constexpr double kToleranceMs = 1.0;
constexpr int kStreamsPerBrowser = 8; // two more than HTTP/1.1's six connections: two starve
constexpr auto kPath = 20ms;
constexpr double kRate = 10;          // events a second: a 100 ms period
// Beyond this much wall time for the dilated run the machine is too busy for this test.
constexpr double kWallBudgetS = 240;

scenario::Variant world(qint64 browsers)
{
    scenario::Variant v = testing::directVariant(QStringLiteral("viewers x%1").arg(browsers * kStreamsPerBrowser),
                                                 QStringLiteral("viewers"), scenario::Protocol::Http1, browsers,
                                                 kStreamsPerBrowser, kPath);
    v.publisher.at = QStringLiteral("origin");
    v.publisher.rate = kRate;
    v.publisher.payloadBytes = 100;
    v.sse.heartbeat = std::nullopt;
    v.warmup = 400ms;
    v.duration = 500ms;
    v.seed = 7;
    return v;
}

metrics::VariantResult runAt(const scenario::Variant &v, double scale, bool keepRows)
{
    sim::Run::Settings settings;
    settings.timeScale = scale;
    settings.toleranceMs = kToleranceMs;
    settings.keepStreamRows = keepRows;
    sim::Run run(v, settings);
    QString error;
    QObject::connect(&run, &sim::Run::failed, &run, [&](const QString &reason) { error = reason; }, Qt::DirectConnection);
    run.start();
    run.wait();
    if (!error.isEmpty())
        qWarning("%s: %s", qPrintable(v.name), qPrintable(error));
    return run.result();
}

double worstGroupError(const metrics::VariantResult &r, std::uint64_t &samples)
{
    double worst = 0;
    samples = 0;
    for (const auto &g : r.groups) {
        samples += g.error.percentiles.count;
        if (g.error.percentiles.count > 0)
            worst = std::max(worst, g.error.percentiles.p99);
    }
    return worst;
}

double chooseScale(const scenario::Variant &v)
{
    sim::TimeScaleSearch search(kToleranceMs);
    while (!search.decided()) {
        const double scale = search.next();
        if (scale * std::chrono::duration<double>(v.warmup + v.duration).count() > kWallBudgetS)
            return scale; // too long even to calibrate: the caller skips
        std::uint64_t samples = 0;
        const double worst = worstGroupError(runAt(sim::calibrationVariant(v, scale), scale, false), samples);
        qInfo("calibration x%g: error p99 %.3f ms over %llu events", scale, worst, static_cast<unsigned long long>(samples));
        search.measured(scale, samples, worst);
    }
    qInfo("%s", qPrintable(search.reason()));
    return search.chosen();
}

// The first-event times of the streams that got one, at the q-quantile (nearest rank).
double firstEventQuantile(const metrics::VariantResult &r, double q)
{
    std::vector<double> times;
    for (const auto &s : r.streamSummaries)
        if (s.timeToFirstEventMs >= 0)
            times.push_back(s.timeToFirstEventMs);
    if (times.empty())
        return -1;
    std::sort(times.begin(), times.end());
    return times[std::min(times.size() - 1, std::size_t(q * double(times.size())))];
}

} // namespace

class TestSimAtScale final : public QObject
{
    Q_OBJECT

private slots:
    void thousandsAtAutoScaleMatchAHundredsAtOne();
};

void TestSimAtScale::thousandsAtAutoScaleMatchAHundredsAtOne()
{
    const scenario::Variant big = world(500);  // 4,000 streams, 3,000 served
    const scenario::Variant small = world(25); // 200 streams, 150 served
    const double scale = chooseScale(big);
    const double wallS = scale * std::chrono::duration<double>(big.warmup + big.duration).count();
    if (wallS > kWallBudgetS)
        QSKIP(qPrintable(QStringLiteral("auto chose scale %1 for 4,000 streams: %2 s of wall time, this machine is too busy")
                             .arg(scale).arg(wallS, 0, 'f', 0)));
    const metrics::VariantResult many = runAt(big, scale, true);
    const metrics::VariantResult few = runAt(small, 1, true);
    QCOMPARE(many.groups.size(), std::size_t(1));
    QCOMPARE(few.groups.size(), std::size_t(1));
    const metrics::GroupResult &m = many.groups.front();
    const metrics::GroupResult &f = few.groups.front();
    qInfo("scale %g: latency p50 %.3f ms (200 at scale 1: %.3f ms, its error p50 %.3f ms); error p99 %.3f ms", scale,
          m.latency.p50, f.latency.p50, f.error.percentiles.p50, m.error.percentiles.p99);

    // The dilated run met the tolerance it was chosen for, and its median is the path's.
    QVERIFY2(m.error.percentiles.p99 <= kToleranceMs * 1.5, qPrintable(QString::number(m.error.percentiles.p99)));
    const double pathMs = std::chrono::duration<double, std::milli>(kPath).count();
    QVERIFY2(std::abs(m.latency.p50 - pathMs) <= kToleranceMs, qPrintable(QString::number(m.latency.p50)));
    // The undilated reference carries the machine's share at 200 streams: its own error p50.
    QVERIFY2(std::abs(m.latency.p50 - f.latency.p50) <= kToleranceMs + f.error.percentiles.p50,
             qPrintable(QStringLiteral("%1 vs %2 ms").arg(m.latency.p50).arg(f.latency.p50)));

    // Arrivals spread over the warm-up meet the publisher anywhere in its 100 ms period: the
    // first-event times are a spread of about a period, alike in both (150 samples: within 12 ms).
    constexpr double kFirstEventToleranceMs = 12;
    for (const double q : {0.1, 0.5, 0.9}) {
        const double a = firstEventQuantile(many, q), b = firstEventQuantile(few, q);
        qInfo("first event q%.0f: %.2f ms at 4,000 streams, %.2f ms at 200", q * 100, a, b);
        QVERIFY(a >= pathMs && b >= pathMs);
        QVERIFY2(std::abs(a - b) <= kFirstEventToleranceMs, qPrintable(QStringLiteral("q%1: %2 vs %3 ms").arg(q).arg(a).arg(b)));
    }
    const double spread = firstEventQuantile(many, 0.9) - firstEventQuantile(many, 0.1);
    QVERIFY2(spread >= 0.5 * 1000 / kRate && spread <= 1000 / kRate + kFirstEventToleranceMs, qPrintable(QString::number(spread)));

    // Two of each browser's eight streams wait for one of its six connections the whole run.
    const int starvedPerBrowser = kStreamsPerBrowser - 6;
    QCOMPARE(m.streams.starved, std::uint64_t(500 * starvedPerBrowser));
    QCOMPARE(f.streams.starved, std::uint64_t(25 * starvedPerBrowser));
    // Nothing in the world ends a stream.
    QCOMPARE(m.streams.reconnects, std::uint64_t(0));
    QCOMPARE(f.streams.reconnects, std::uint64_t(0));
    QVERIFY(m.events.delivered > 0 && f.events.delivered > 0);
}

QTEST_GUILESS_MAIN(TestSimAtScale)
#include "tst_sim_atscale.moc"
