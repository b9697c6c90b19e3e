// Autoscaling and failover, run for real: the expectations come from the scenario text —
// streams, caps, cold start, retry and re-resolution delay — never from the engine's sums.
#include "simtesthelpers.h"

#include "core/sim/routingseries.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace edgesse;
using namespace std::chrono_literals;

namespace {

scenario::Variant variantFrom(const QByteArray &text)
{
    return simtest::firstVariantOf(text, QStringLiteral("routing.yaml"));
}

std::vector<double> channel(const metrics::VariantResult &r, const QString &name)
{
    const int c = r.timeSeries.channelIndex(name);
    return c < 0 ? std::vector<double>() : r.timeSeries.viewValues(c);
}

double maxOf(const std::vector<double> &v)
{
    double m = 0;
    for (double x : v)
        m = std::isnan(x) ? m : std::max(m, x);
    return m;
}

// The first row at or after `from` where `test` holds, -1 when none.
template<class Test>
int firstRow(const std::vector<double> &v, int from, Test test)
{
    for (int i = std::max(from, 0); i < int(v.size()); ++i)
        if (!std::isnan(v[std::size_t(i)]) && test(v[std::size_t(i)]))
            return i;
    return -1;
}

} // namespace

class TestRoutingFaults final : public QObject
{
    Q_OBJECT

private slots:
    void autoscaleStartsWhatTheStreamsNeed_data();
    void autoscaleStartsWhatTheStreamsNeed();
    void crashedPopFailsOverToItsFallback_data();
    void crashedPopFailsOverToItsFallback();
};

void TestRoutingFaults::autoscaleStartsWhatTheStreamsNeed_data()
{
    QTest::addColumn<int>("streams");
    QTest::addColumn<int>("cap");
    QTest::addColumn<int>("coldStartMs");
    QTest::newRow("23 streams, cap 5, 400 ms") << 23 << 5 << 400;
    QTest::newRow("12 streams, cap 4, 250 ms") << 12 << 4 << 250;
}

// All streams arrive at once on one warm instance: ceil(streams / cap) instances end up
// serving, the streams beyond the first instance's cap wait one cold start for their first
// event, and instance time is billed for each, by the hour and by memory × seconds.
void TestRoutingFaults::autoscaleStartsWhatTheStreamsNeed()
{
    QFETCH(int, streams);
    QFETCH(int, cap);
    QFETCH(int, coldStartMs);
    const QByteArray text = "name: scale\nseed: 5\nduration: 2s\nwarmup: 1500ms\narrival: 0s\n"
                            "nodes:\n  origin: { kind: origin, max_connections: " + QByteArray::number(cap)
        + ", autoscale: { min: 1, max: 20, cold_start: " + QByteArray::number(coldStartMs) + "ms } }\n"
          "clients:\n  - { name: b, count: " + QByteArray::number(streams) + ", near: origin }\n"
          "links:\n  - { between: [b, origin], latency: 2ms }\n"
          "publisher: { at: origin, rate: 50/s, payload: 64B }\n"
          "pricing: { per_instance_hour: 3600, per_instance_gb_second: 2, memory: 512MB }\n";
    RUN_VARIANT(r, variantFrom(text));
    const int needed = (streams + cap - 1) / cap;
    QCOMPARE(maxOf(channel(r, sim::RoutingSeries::instances(QStringLiteral("origin")))), double(needed));
    std::vector<double> ttfe;
    for (const auto &s : r.streamSummaries)
        ttfe.push_back(s.timeToFirstEventMs);
    QCOMPARE(int(ttfe.size()), streams);
    std::sort(ttfe.begin(), ttfe.end());
    const double publishGapMs = 1000.0 / 50;
    for (int i = 0; i < cap; ++i) // the warm instance's streams: path and the next event
        QVERIFY2(ttfe[std::size_t(i)] >= 0 && ttfe[std::size_t(i)] < coldStartMs, qPrintable(QString::number(ttfe[std::size_t(i)])));
    for (int i = cap; i < streams; ++i) // the rest waited one cold start, not two
        QVERIFY2(ttfe[std::size_t(i)] >= coldStartMs && ttfe[std::size_t(i)] < 2 * coldStartMs + publishGapMs + 100,
                 qPrintable(QString::number(ttfe[std::size_t(i)])));
    qInfo("instances %d (expected %d); ttfe fastest %.1f ms, slowest warm %.1f ms, first cold %.1f ms, slowest %.1f ms",
          int(maxOf(channel(r, sim::RoutingSeries::instances(QStringLiteral("origin"))))), needed, ttfe.front(),
          ttfe[std::size_t(cap - 1)], ttfe[std::size_t(cap)], ttfe.back());
    // Every instance ran through the measured window: needed × window × 1 USD a second.
    QVERIFY(r.cost.has_value());
    const double billed = r.cost->breakdown.at(QStringLiteral("instance_hours"));
    QVERIFY2(std::abs(billed - needed * r.durationS) <= 0.02 * needed * r.durationS, qPrintable(QString::number(billed)));
    // And by memory: needed instances × 0.5 GB (512 MB of 1,024) × window × 2 USD a GB-second.
    const double perMemory = needed * (512.0 / 1024.0) * r.durationS * 2;
    const double billedMemory = r.cost->breakdown.at(QStringLiteral("instance_gb_seconds"));
    QVERIFY2(std::abs(billedMemory - perMemory) <= 0.02 * perMemory, qPrintable(QString::number(billedMemory)));
}

void TestRoutingFaults::crashedPopFailsOverToItsFallback_data()
{
    QTest::addColumn<int>("replay");
    QTest::newRow("replay") << 1000;
    QTest::newRow("no replay") << 0;
}

// pop-a crashes 2.5 s into the run; its 20 clients retry every 300 ms and reach pop-b once
// the 1 s re-resolution has passed, through their own link to it.
void TestRoutingFaults::crashedPopFailsOverToItsFallback()
{
    QFETCH(int, replay);
    constexpr int kClients = 20, kRetryMs = 300, kReresolutionMs = 1000;
    const QByteArray text = "name: failover\nseed: 9\nduration: 4s\nwarmup: 1s\narrival: 300ms\nplacement: edge\n"
                            "nodes:\n  origin: { kind: origin }\n"
                            "  pop-a: { kind: pop, faults: [{ at: 2500ms, action: crash }], fallback: [pop-b], re_resolution: "
        + QByteArray::number(kReresolutionMs) + "ms }\n"
          "  pop-b: { kind: pop }\n"
          "clients:\n  - { name: c, count: " + QByteArray::number(kClients) + ", near: pop-a }\n"
          "links:\n  - { between: [c, pop-a], latency: 5ms }\n  - { between: [c, pop-b], latency: 20ms }\n"
          "  - { between: [pop-a, origin], latency: 20ms }\n  - { between: [pop-b, origin], latency: 30ms }\n"
          "publisher: { at: origin, rate: 20/s, payload: 64B }\nsse: { retry: " + QByteArray::number(kRetryMs)
        + "ms, replay: " + QByteArray::number(replay) + " }\n";
    RUN_VARIANT(r, variantFrom(text));
    const std::vector<double> a = channel(r, QStringLiteral("connections:pop-a"));
    const std::vector<double> b = channel(r, QStringLiteral("connections:pop-b"));
    const int up = firstRow(a, 0, [](double v) { return v >= kClients; });
    QVERIFY(up >= 0);
    const int crashed = firstRow(a, up, [](double v) { return v == 0; });
    const int arrived = firstRow(b, 0, [](double v) { return v > 0; });
    const int all = firstRow(b, 0, [](double v) { return v >= kClients; });
    QVERIFY2(crashed >= 0 && arrived >= 0 && all >= 0, qPrintable(QStringLiteral("%1 %2 %3").arg(crashed).arg(arrived).arg(all)));
    // Rows are 100 ms: no one reaches pop-b before the re-resolution; everyone within one retry after it.
    QVERIFY2(arrived - crashed >= kReresolutionMs / 100 - 1, qPrintable(QStringLiteral("%1 -> %2").arg(crashed).arg(arrived)));
    QVERIFY2(all - crashed <= (kReresolutionMs + kRetryMs) / 100 + 3, qPrintable(QStringLiteral("%1 -> %2").arg(crashed).arg(all)));
    qInfo("crash row %d, first on pop-b row %d, all on pop-b row %d; reconnects %llu, lost %llu", crashed, arrived, all,
          static_cast<unsigned long long>(r.streams.reconnects), static_cast<unsigned long long>(r.events.lost));
    QVERIFY(r.streams.reconnects >= std::uint64_t(kClients));
    if (replay > 0)
        QCOMPARE(r.events.lost, std::uint64_t(0));
    else
        QVERIFY2(r.events.lost >= std::uint64_t(kClients) * 10, qPrintable(QString::number(r.events.lost))); // ≥ 1 s at 20/s each
}

QTEST_GUILESS_MAIN(TestRoutingFaults)
#include "tst_routing_faults.moc"
