// A reconnect storm through the whole topology: 2,000 browsers behind an access link that
// goes down for 100 ms, reconnecting to a routed origin (two instances behind the
// balancer). The balancer notes when each connection reaches it; the expectations come
// from the clients' policy in the scenario: the browser's own (everyone after exactly
// `retry`) or exponential backoff with full jitter (uniform over [0, base]). The run is
// dilated twenty times (sim::dilated), so the machine's own time to take in 2,000
// connections at once through three proxies stays small beside a modelled 100 ms window:
// that took 0.7 s of wall time at load average 20 on two cores (101 ms modelled at ×10,
// load 11; 178 ms at ×10, load 21).
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

constexpr int kStreams = 2000;
constexpr double kScale = 20;
constexpr auto kFaultAt = 1200ms; // modelled
constexpr auto kRetry = 1000ms;

std::chrono::steady_clock::duration wall(std::chrono::milliseconds modelled)
{
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(modelled * kScale);
}

scenario::Variant variantFor(const QByteArray &reconnect)
{
    const QByteArray text = "name: storm\nseed: 11\nduration: 10s\nwarmup: 1s\narrival: 400ms\n"
                            "nodes:\n  origin: { kind: origin, instances: 2, balance: least-connections }\n"
                            "clients:\n  - { name: b, count: " + QByteArray::number(kStreams) + ", near: origin" + reconnect + " }\n"
                            "links:\n  - { between: [b, origin], latency: 5ms, faults: [{ at: 1200ms, down_for: 100ms }] }\n"
                            "publisher: { at: origin, rate: 5/s, payload: 64B }\nsse: { retry: 1s }\n";
    const scenario::LoadResult loaded = scenario::loadFromText(text, QStringLiteral("storm.yaml"));
    if (!loaded.ok())
        qFatal("%s", qPrintable(loaded.diagnostics.front().toString()));
    return sim::dilated(loaded.scenario->variants.front(), kScale);
}

// The most attempts inside any window of `width`.
int peakWithin(const std::vector<std::chrono::steady_clock::time_point> &times, std::chrono::milliseconds width)
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
    QTest::addColumn<bool>("jittered");
    QTest::newRow("browser default") << QByteArray() << false;
    QTest::newRow("full jitter") << QByteArray(", reconnect: { backoff: exponential, base: 1s, max: 30s, jitter: full }") << true;
}

void TestStorm::reconnectsFollowThePolicy()
{
    QFETCH(QByteArray, reconnect);
    QFETCH(bool, jittered);
    const scenario::Variant v = variantFor(reconnect);
    QString error;
    const auto plan = sim::planTopology(v, 2, true, &error);
    QVERIFY2(plan, qPrintable(error));
    const auto tls = tls::TlsIdentity::make(nullptr, &error);
    QVERIFY2(tls, qPrintable(error));
    std::vector<std::chrono::steady_clock::time_point> times;
    std::chrono::steady_clock::time_point up;
    {
        sim::LiveTopology live(v, *plan, tls);
        QVERIFY2(live.bringUp(&error), qPrintable(error));
        up = std::chrono::steady_clock::now();
        live.prepareClients();
        live.startPublisher();
        QVERIFY(live.openClients(&error));
        // The fault at 2.5 s and every reconnect within its policy's window after it (a
        // second window for a stream whose first attempt met the outage and backed off).
        const auto fault = up + wall(kFaultAt);
        const auto deadline = up + wall(kFaultAt + 100ms + 4 * kRetry + 300ms);
        std::this_thread::sleep_until(up + wall(kFaultAt + 100ms + 2 * kRetry + 300ms));
        for (;;) {
            live.onEachThread([&](int i) {
                const routing::InstancePool *pool = live.pool(0);
                if (i == plan->nodes.front().thread && pool)
                    times = pool->attemptTimes();
            });
            if (std::count_if(times.begin(), times.end(), [&](auto t) { return t >= fault; }) >= kStreams
                || std::chrono::steady_clock::now() >= deadline)
                break;
            std::this_thread::sleep_for(wall(50ms));
        }
        live.stopPublisher();
    }
    std::sort(times.begin(), times.end());
    const auto fault = up + wall(kFaultAt);
    QVERIFY2(std::count_if(times.begin(), times.end(), [&](auto t) { return t < fault; }) >= kStreams,
             "every stream connected before the fault");
    std::vector<std::chrono::steady_clock::time_point> after;
    std::copy_if(times.begin(), times.end(), std::back_inserter(after), [&](auto t) { return t >= fault; });
    QVERIFY2(int(after.size()) >= kStreams, qPrintable(QString::number(after.size())));
    const int peak = peakWithin(after, std::chrono::duration_cast<std::chrono::milliseconds>(wall(100ms)));
    const double share = double(peak) / double(after.size());
    const double spanMs = std::chrono::duration<double, std::milli>(after.back() - after.front()).count() / kScale;
    qInfo("%zu reconnect attempts after the drop: %d (%.1f%%) inside the busiest 100 ms, spread over %.0f ms (modelled)",
          after.size(), peak, 100 * share, spanMs);
    QString bins;
    for (auto t = fault; t < after.back(); t += wall(100ms))
        bins += QString::number(std::count_if(after.begin(), after.end(), [&](auto x) { return x >= t && x < t + wall(100ms); })) + u' ';
    qInfo("per modelled 100 ms from the drop: %s", qPrintable(bins));
    if (!jittered) {
        QVERIFY2(share >= 0.9, qPrintable(QString::number(share)));
    } else {
        // Uniform over 1 s: about 10% a 100 ms window; 25% would be a storm.
        QVERIFY2(share <= 0.25, qPrintable(QString::number(share)));
        QVERIFY2(spanMs >= 0.8 * double(kRetry.count()), qPrintable(QString::number(spanMs)));
    }
}

QTEST_GUILESS_MAIN(TestStorm)
#include "tst_storm.moc"
