// A reconnect storm through the whole topology: 2,000 browsers behind an access link that
// goes down for 100 ms, reconnecting to a routed origin (two instances behind a balancer
// that admits at most 10,000 requests a second, 500 at once). The balancer notes when each
// connection reaches it and when it answers 503; the expectations come from the scenario:
// the clients' policy — the browser's own (everyone after exactly `retry`) or exponential
// backoff with full jitter (uniform over [0, base]) — and the admission cap (a token bucket
// of `accept_burst`, refilled at `accept_rate`). Each run is dilated (sim::dilated), so the
// machine's own time to take in 2,000 connections at once through three proxies stays small
// beside a modelled 100 ms window: 0.7 s of wall time at load average 20 on two cores, so
// the browser-default row, whose claim is that window, runs ×20; the jittered one, spread
// over a second, ×10.
#include "core/net/deadlinequeue.h"
#include "core/scenario/scenario.h"
#include "core/sim/livetopology.h"
#include "core/sim/timescale.h"
#include "core/sim/topologyplan.h"
#include "core/tls/tlsidentity.h"

#include <QtTest>

#include <algorithm>
#include <thread>

using namespace edgesse;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;
using Times = std::vector<Clock::time_point>;

constexpr int kStreams = 2000;
constexpr auto kFaultAt = 600ms; // modelled; every stream has connected by 300 ms
constexpr auto kOutage = 100ms;
constexpr double kAcceptRate = 10'000; // a second, modelled
constexpr int kAcceptBurst = 500;
constexpr auto kJitterBase = 1000ms;

struct Row {
    QByteArray reconnect; // the client group's reconnect policy, YAML
    std::chrono::milliseconds retry;
    double scale;
};

scenario::Variant variantFor(const Row &row)
{
    const QByteArray text = "name: storm\nseed: 11\nduration: 10s\nwarmup: 1s\narrival: 300ms\n"
                            "nodes:\n  origin: { kind: origin, instances: 2, balance: least-connections, accept_rate: "
        + QByteArray::number(kAcceptRate) + "/s, accept_burst: " + QByteArray::number(kAcceptBurst) + " }\n"
        "clients:\n  - { name: b, count: " + QByteArray::number(kStreams) + ", near: origin" + row.reconnect + " }\n"
        "links:\n  - { between: [b, origin], latency: 5ms, faults: [{ at: " + QByteArray::number(qint64(kFaultAt.count()))
        + "ms, down_for: " + QByteArray::number(qint64(kOutage.count())) + "ms }] }\n"
        "publisher: { at: origin, rate: 5/s, payload: 64B }\nsse: { retry: " + QByteArray::number(qint64(row.retry.count())) + "ms }\n";
    const scenario::LoadResult loaded = scenario::loadFromText(text, QStringLiteral("storm.yaml"));
    if (!loaded.ok())
        qFatal("%s", qPrintable(loaded.diagnostics.front().toString()));
    return sim::dilated(loaded.scenario->variants.front(), row.scale);
}

// The most attempts inside any window of `width`.
int peakWithin(const Times &times, Clock::duration width)
{
    int best = 0;
    std::size_t lo = 0;
    for (std::size_t hi = 0; hi < times.size(); ++hi) {
        while (times[hi] - times[lo] >= width)
            ++lo;
        best = std::max(best, int(hi - lo + 1));
    }
    return best;
}

qsizetype countFrom(const Times &times, Clock::time_point from)
{
    return std::count_if(times.begin(), times.end(), [&](auto t) { return t >= from; });
}

struct Observed {
    Clock::time_point up;
    Times attempts;
    Times rejects;
};

// Runs the topology until the fault plus `horizon` (modelled), or until every stream has
// tried again; the balancer's logs of attempts and 503s, sorted.
bool observe(const scenario::Variant &v, double scale, std::chrono::milliseconds horizon, Observed &out, QString *error)
{
    const auto plan = sim::planTopology(v, 2, true, error);
    const auto tls = plan ? tls::TlsIdentity::make(nullptr, error) : nullptr;
    if (!tls)
        return false;
    const auto wall = [scale](std::chrono::milliseconds modelled) { return std::chrono::duration_cast<Clock::duration>(modelled * scale); };
    {
        sim::LiveTopology live(v, *plan, tls);
        if (!live.bringUp(error))
            return false;
        out.up = Clock::now();
        live.prepareClients();
        live.startPublisher();
        if (!live.openClients(error))
            return false;
        const auto fault = out.up + wall(kFaultAt);
        std::this_thread::sleep_until(fault + wall(kOutage));
        for (;;) {
            std::this_thread::sleep_for(wall(50ms));
            live.onEachThread([&](int i) {
                const routing::InstancePool *pool = live.pool(0);
                if (i == plan->nodes.front().thread && pool) {
                    out.attempts = pool->attemptTimes();
                    out.rejects = pool->rejectTimes();
                }
            });
            if (countFrom(out.attempts, fault) >= kStreams || Clock::now() >= fault + wall(horizon))
                break;
        }
        live.stopPublisher();
    }
    std::sort(out.attempts.begin(), out.attempts.end());
    std::sort(out.rejects.begin(), out.rejects.end());
    return true;
}

} // namespace

class TestStorm final : public QObject
{
    Q_OBJECT

private slots:
    void reconnectsFollowThePolicy_data();
    void reconnectsFollowThePolicy();
};

void TestStorm::reconnectsFollowThePolicy_data()
{
    QTest::addColumn<QByteArray>("reconnect");
    QTest::addColumn<int>("retryMs");
    QTest::addColumn<double>("scale");
    QTest::addColumn<bool>("jittered");
    QTest::newRow("browser default") << QByteArray() << 500 << 20.0 << false;
    QTest::newRow("full jitter") << QByteArray(", reconnect: { backoff: exponential, base: "
                                               + QByteArray::number(qint64(kJitterBase.count())) + "ms, max: 30s, jitter: full }")
                                 << 500 << 10.0 << true;
}

void TestStorm::reconnectsFollowThePolicy()
{
    QFETCH(QByteArray, reconnect);
    QFETCH(int, retryMs);
    QFETCH(double, scale);
    QFETCH(bool, jittered);
    const Row row{reconnect, std::chrono::milliseconds(retryMs), scale};
    const auto window = jittered ? kJitterBase : row.retry;
    Observed seen;
    QString error;
    QVERIFY2(observe(variantFor(row), scale, kOutage + window + 200ms, seen, &error), qPrintable(error));
    const auto wall = [scale](std::chrono::milliseconds modelled) { return std::chrono::duration_cast<Clock::duration>(modelled * scale); };
    const auto fault = seen.up + wall(kFaultAt);
    QVERIFY2(std::count_if(seen.attempts.begin(), seen.attempts.end(), [&](auto t) { return t < fault; }) >= kStreams, "every stream connected before the fault");
    QVERIFY2(seen.rejects.empty() || seen.rejects.front() >= fault, "a 503 before the storm: the arrival outran the accept rate");
    Times after;
    std::copy_if(seen.attempts.begin(), seen.attempts.end(), std::back_inserter(after), [&](auto t) { return t >= fault; });
    after.resize(std::min<std::size_t>(after.size(), kStreams)); // the wave; a 503's retry comes a Retry-After later
    // The jittered streams whose first draw fell inside the outage try again later: 1 − outage/base of them are here.
    const double reached = jittered ? 1.0 - double(kOutage.count()) / double(kJitterBase.count()) : 1.0;
    QVERIFY2(double(after.size()) >= 0.95 * reached * kStreams, qPrintable(QString::number(after.size())));
    const int peak = peakWithin(after, wall(100ms));
    const double share = double(peak) / double(after.size());
    const double spanS = std::chrono::duration<double>(after.back() - after.front()).count() / scale;
    const Clock::time_point last = std::max(after.back(), seen.rejects.empty() ? after.back() : seen.rejects.back());
    const qsizetype rejected = std::count_if(seen.rejects.begin(), seen.rejects.end(), [&](auto t) { return t >= fault && t <= last; });
    qInfo("%zu reconnect attempts after the drop: %d (%.1f%%) inside the busiest 100 ms, spread over %.0f ms (modelled); %lld answered 503",
          after.size(), peak, 100 * share, 1000 * spanS, qint64(rejected));
    QString bins;
    for (auto t = fault; t <= after.back(); t += wall(100ms))
        bins += QString::number(std::count_if(after.begin(), after.end(), [&](auto x) { return x >= t && x < t + wall(100ms); })) + u' ';
    qInfo("per modelled 100 ms from the drop: %s", qPrintable(bins));
    if (!jittered) {
        QVERIFY2(share >= 0.9, qPrintable(QString::number(share)));
        // A full bucket admits its burst, then the rate over the wave's span (to its last
        // decision): every other attempt of the wave is answered 503.
        const double decidedS = std::chrono::duration<double>(last - after.front()).count() / scale;
        const double most = double(after.size()) - kAcceptBurst;
        const double least = double(after.size()) - kAcceptBurst - kAcceptRate * decidedS - 0.01 * double(after.size());
        qInfo("503s expected between %.0f and %.0f (burst %d, %.0f/s over %.1f ms)", least, most, kAcceptBurst, kAcceptRate, 1000 * decidedS);
        QVERIFY2(double(rejected) <= most && double(rejected) >= least, qPrintable(QString::number(rejected)));
    } else {
        // Uniform over 1 s: about 10% a 100 ms window; 25% would be a storm.
        QVERIFY2(share <= 0.25, qPrintable(QString::number(share)));
        QVERIFY2(spanS >= 0.8 * std::chrono::duration<double>(kJitterBase).count(), qPrintable(QString::number(spanS)));
        // At most `peak` a modelled 100 ms against 1,000 tokens refilled in it: the bucket
        // never runs dry, so (almost) nobody is turned away.
        QVERIFY2(peak * 10 < kAcceptRate / 2, qPrintable(QString::number(peak)));
        QVERIFY2(double(rejected) <= 0.01 * double(after.size()), qPrintable(QString::number(rejected)));
    }
}

QTEST_GUILESS_MAIN(TestStorm)
#include "tst_storm.moc"
