#pragma once

#include <QList>
#include <QPointF>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace edgesse::metrics {

// Log-linear (HDR-style) bucket layout shared by LatencyHistogram and LatencyRecorder.
// Values are microseconds. Below 256 µs every value has its own bucket; above, each power
// of two is split into 128 equal buckets, so a bucket is at most 1/128 of its lower bound
// wide and a reported value (the bucket's midpoint) is within 0.4% of the true one.
// Values above kMaxTrackable (about 19 hours) are counted in the top bucket; min, max and
// mean stay exact.
namespace buckets {
inline constexpr int kSubBucketBits = 7;
inline constexpr std::uint64_t kSubBucketCount = std::uint64_t{1} << kSubBucketBits; // 128
inline constexpr int kMaxValueBits = 36;
inline constexpr std::uint64_t kMaxTrackable = (std::uint64_t{1} << kMaxValueBits) - 1;
inline constexpr std::size_t kCount =
    2 * kSubBucketCount + (kMaxValueBits - kSubBucketBits - 1) * kSubBucketCount;

std::size_t indexOf(std::uint64_t valueUs);
std::uint64_t lowerBound(std::size_t index);
std::uint64_t upperBound(std::size_t index); // inclusive
} // namespace buckets

// A histogram of latencies as a plain value: merge, subtract, percentiles, CDF.
// Not thread-safe; data-plane threads record into a LatencyRecorder and the collector
// takes snapshots (which are LatencyHistograms).
class LatencyHistogram
{
public:
    LatencyHistogram();

    void record(std::uint64_t valueUs, std::uint64_t times = 1);
    void record(std::chrono::microseconds value) { record(value.count() < 0 ? 0 : std::uint64_t(value.count())); }
    void merge(const LatencyHistogram &other);
    // What was recorded after `earlier` (a previous snapshot of the same recorder): used
    // for per-window percentiles. min and max of the result are bucket bounds.
    LatencyHistogram since(const LatencyHistogram &earlier) const;
    void clear();

    std::uint64_t count() const { return m_count; }
    bool isEmpty() const { return m_count == 0; }
    std::uint64_t sumUs() const { return m_sum; }
    double meanUs() const;
    std::uint64_t minUs() const { return m_count ? m_min : 0; }
    std::uint64_t maxUs() const { return m_count ? m_max : 0; }
    // p in [0, 100]: the smallest recorded value v such that at least p% of the values
    // are <= v (within the bucket resolution); 100 gives the exact max; 0 when empty.
    std::uint64_t percentileUs(double p) const;
    double percentileMs(double p) const { return double(percentileUs(p)) / 1000.0; }

    // Cumulative distribution for charts: (latency in ms, fraction of values <= it), one
    // point per non-empty bucket, thinned to about maxPoints keeping the tail.
    QList<QPointF> cdfMs(int maxPoints = 400) const;

    std::uint64_t bucketCount(std::size_t index) const { return m_counts[index]; }

private:
    friend class LatencyRecorder;
    std::vector<std::uint64_t> m_counts;
    std::uint64_t m_count = 0;
    std::uint64_t m_sum = 0;
    std::uint64_t m_min = UINT64_MAX;
    std::uint64_t m_max = 0;
};

// Lock-free recording for the data plane: relaxed atomics, no lock, no allocation.
// record() is safe from any number of threads (atomic read-modify-write). When one thread
// is the recorder's only writer — a ShardedLatency shard per data-plane thread — it calls
// recordExclusive(), which skips the locked instructions and costs a few ns less; mixing
// the two on one recorder from several threads loses counts. snapshot() may run on any
// thread at any time; it sees every record that happened before it and some of those
// concurrent with it.
class LatencyRecorder
{
public:
    LatencyRecorder();
    LatencyRecorder(const LatencyRecorder &) = delete;
    LatencyRecorder &operator=(const LatencyRecorder &) = delete;

    void record(std::uint64_t valueUs) noexcept;
    void record(std::chrono::microseconds value) noexcept
    {
        record(value.count() < 0 ? 0 : std::uint64_t(value.count()));
    }
    // Only from the recorder's single writing thread.
    void recordExclusive(std::uint64_t valueUs) noexcept;
    void recordExclusive(std::chrono::microseconds value) noexcept
    {
        recordExclusive(value.count() < 0 ? 0 : std::uint64_t(value.count()));
    }
    LatencyHistogram snapshot() const;
    // Adds this recorder's contents to `into` (cheaper than snapshot() + merge()).
    void addTo(LatencyHistogram &into) const;

private:
    std::unique_ptr<std::atomic<std::uint64_t>[]> m_counts;
    alignas(64) std::atomic<std::uint64_t> m_sum{0};
    std::atomic<std::uint64_t> m_min{UINT64_MAX};
    std::atomic<std::uint64_t> m_max{0};
};

// The same buckets (and the same 0.4% bound) for one stream among thousands: only the
// non-empty buckets are held, sorted — a stream's latencies cover few of them. Not
// thread-safe; recorded by the stream's own thread.
class SparseLatencyHistogram
{
public:
    void record(std::uint64_t valueUs);
    std::uint64_t count() const { return m_count; }
    std::uint64_t maxUs() const { return m_count ? m_max : 0; }
    // As LatencyHistogram::percentileUs.
    std::uint64_t percentileUs(double p) const;
    double percentileMs(double p) const { return double(percentileUs(p)) / 1000.0; }

private:
    struct Bucket {
        std::uint32_t index;
        std::uint32_t count;
    };
    std::vector<Bucket> m_buckets;
    std::uint64_t m_count = 0;
    std::uint64_t m_min = UINT64_MAX;
    std::uint64_t m_max = 0;
};

// One LatencyRecorder for each data-plane thread (index = the thread's number), merged
// on snapshot; the thread that owns shard i records with shard(i).recordExclusive(). The
// shard count is fixed at construction.
class ShardedLatency
{
public:
    explicit ShardedLatency(std::size_t shards);

    std::size_t shardCount() const { return m_shards.size(); }
    LatencyRecorder &shard(std::size_t index) { return *m_shards[index]; }
    LatencyHistogram snapshot() const;

private:
    std::vector<std::unique_ptr<LatencyRecorder>> m_shards;
};

} // namespace edgesse::metrics
