// Cost of recording a latency sample on the data plane, and of the collector's reads.
// Run: build/release/tests/bench/bench_metrics [samples per thread, default 20000000]

#include "core/metrics/latencyhistogram.h"
#include "core/metrics/streamtracker.h"
#include "core/metrics/timeseries.h"

#include <QCoreApplication>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

using namespace edgesse::metrics;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::uint64_t> latencies(std::size_t n, std::uint32_t seed)
{
    // Realistic values: lognormal around 20 ms, spread over many buckets.
    std::mt19937_64 random(seed);
    std::lognormal_distribution<double> d(std::log(20'000.0), 0.8);
    std::vector<std::uint64_t> values(n);
    for (auto &v : values)
        v = std::uint64_t(d(random));
    return values;
}

template <typename F>
double nsPerOp(std::size_t ops, F &&f)
{
    const auto start = Clock::now();
    f();
    return double(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count()) / double(ops);
}

// Two threads start together and each records its own values into `target(i)`.
template <typename Target>
double concurrent(const std::vector<std::uint64_t> &a, const std::vector<std::uint64_t> &b, Target target,
                  bool exclusive)
{
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    double ns[2] = {0, 0};
    auto body = [&](int index, const std::vector<std::uint64_t> &values) {
        LatencyRecorder &recorder = target(index);
        ready.fetch_add(1);
        while (!go.load())
            std::this_thread::yield();
        ns[index] = nsPerOp(values.size(), [&] {
            if (exclusive) {
                for (std::uint64_t v : values)
                    recorder.recordExclusive(v);
            } else {
                for (std::uint64_t v : values)
                    recorder.record(v);
            }
        });
    };
    std::thread t0(body, 0, std::cref(a));
    std::thread t1(body, 1, std::cref(b));
    while (ready.load() < 2)
        std::this_thread::yield();
    go = true;
    t0.join();
    t1.join();
    return (ns[0] + ns[1]) / 2;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
    const std::vector<std::uint64_t> a = latencies(n, 1);
    const std::vector<std::uint64_t> b = latencies(n, 2);

    std::printf("bench_metrics: %zu samples per thread, %u hardware threads\n\n", n,
                std::thread::hardware_concurrency());

    LatencyHistogram plain;
    const double baseline = nsPerOp(n, [&] {
        for (std::uint64_t v : a)
            plain.record(v);
    });
    LatencyRecorder single;
    const double recorder = nsPerOp(n, [&] {
        for (std::uint64_t v : a)
            single.record(v);
    });
    LatencyRecorder owned;
    const double exclusive = nsPerOp(n, [&] {
        for (std::uint64_t v : a)
            owned.recordExclusive(v);
    });
    std::printf("%-58s %7.2f ns/sample  (baseline)\n", "plain LatencyHistogram::record, 1 thread", baseline);
    std::printf("%-58s %7.2f ns/sample  %5.2fx\n", "LatencyRecorder::recordExclusive, 1 thread", exclusive,
                exclusive / baseline);
    std::printf("%-58s %7.2f ns/sample  %5.2fx\n", "LatencyRecorder::record (atomic adds), 1 thread", recorder,
                recorder / baseline);

    ShardedLatency sharded(2);
    const auto shards = [&](int i) -> LatencyRecorder & { return sharded.shard(std::size_t(i)); };
    const double own = concurrent(a, b, shards, true);
    std::printf("%-58s %7.2f ns/sample  %5.2fx\n", "2 threads, own shard each, recordExclusive (data plane)", own,
                own / baseline);
    ShardedLatency sharded2(2);
    const double ownAtomic =
        concurrent(a, b, [&](int i) -> LatencyRecorder & { return sharded2.shard(std::size_t(i)); }, false);
    std::printf("%-58s %7.2f ns/sample  %5.2fx\n", "2 threads, own shard each, record", ownAtomic,
                ownAtomic / baseline);
    LatencyRecorder shared;
    const double contended = concurrent(a, b, [&](int) -> LatencyRecorder & { return shared; }, false);
    std::printf("%-58s %7.2f ns/sample  %5.2fx\n", "2 threads sharing one recorder (for contrast)", contended,
                contended / baseline);

    // What the collector pays every 100 ms.
    const int snapshots = 2000;
    LatencyHistogram previous;
    const double snapshotUs = nsPerOp(snapshots, [&] {
        for (int i = 0; i < snapshots; ++i) {
            const LatencyHistogram now = sharded.snapshot();
            const LatencyHistogram window = now.since(previous);
            previous = now;
            (void)window.percentileUs(99);
        }
    }) / 1000.0;
    std::printf("%-58s %7.2f µs\n", "collector: snapshot of 2 shards + window + p99", snapshotUs);

    // Exactly-once accounting for an in-order stream.
    StreamTracker tracker(0);
    const double trackerNs = nsPerOp(n, [&] {
        for (std::uint64_t seq = 0; seq < n; ++seq)
            tracker.received(seq);
    });
    std::printf("%-58s %7.2f ns/event\n", "StreamTracker::received, in order", trackerNs);

    TimeSeries series;
    for (int c = 0; c < 16; ++c)
        series.addChannel(QStringLiteral("c%1").arg(c));
    std::vector<double> row(16, 1.0);
    const int rows = 1'000'000;
    const double appendNs = nsPerOp(rows, [&] {
        for (int i = 0; i < rows; ++i)
            series.append(row);
    });
    std::printf("%-58s %7.2f ns/row\n", "TimeSeries::append, 16 channels, with folding", appendNs);

    // Keep the results observable so nothing is optimised away.
    std::printf("\n(check: %llu %llu %llu %llu %llu)\n", static_cast<unsigned long long>(owned.snapshot().count()),
                static_cast<unsigned long long>(plain.count()),
                static_cast<unsigned long long>(single.snapshot().count()),
                static_cast<unsigned long long>(sharded.snapshot().count()),
                static_cast<unsigned long long>(shared.snapshot().count() + tracker.account(n - 1).delivered));
    return 0;
}
