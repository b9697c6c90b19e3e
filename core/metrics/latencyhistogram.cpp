#include "core/metrics/latencyhistogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace edgesse::metrics {

namespace buckets {

std::size_t indexOf(std::uint64_t valueUs)
{
    if (valueUs < 2 * kSubBucketCount)
        return std::size_t(valueUs);
    if (valueUs > kMaxTrackable)
        return kCount - 1;
    const int msb = std::bit_width(valueUs) - 1; // >= kSubBucketBits + 1
    const int shift = msb - kSubBucketBits;      // >= 1
    const std::uint64_t mantissa = valueUs >> shift; // [128, 256)
    return std::size_t(2 * kSubBucketCount + std::uint64_t(shift - 1) * kSubBucketCount
                       + (mantissa - kSubBucketCount));
}

std::uint64_t lowerBound(std::size_t index)
{
    if (index < 2 * kSubBucketCount)
        return index;
    const std::size_t above = index - 2 * kSubBucketCount;
    const int shift = int(above / kSubBucketCount) + 1;
    const std::uint64_t mantissa = kSubBucketCount + above % kSubBucketCount;
    return mantissa << shift;
}

std::uint64_t upperBound(std::size_t index)
{
    if (index < 2 * kSubBucketCount)
        return index;
    const std::size_t above = index - 2 * kSubBucketCount;
    const int shift = int(above / kSubBucketCount) + 1;
    return lowerBound(index) + (std::uint64_t{1} << shift) - 1;
}

} // namespace buckets

LatencyHistogram::LatencyHistogram()
    : m_counts(buckets::kCount, 0)
{
}

void LatencyHistogram::record(std::uint64_t valueUs, std::uint64_t times)
{
    if (times == 0)
        return;
    m_counts[buckets::indexOf(valueUs)] += times;
    m_count += times;
    m_sum += valueUs * times;
    m_min = std::min(m_min, valueUs);
    m_max = std::max(m_max, valueUs);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    if (other.m_count == 0)
        return;
    for (std::size_t i = 0; i < buckets::kCount; ++i)
        m_counts[i] += other.m_counts[i];
    m_count += other.m_count;
    m_sum += other.m_sum;
    m_min = std::min(m_min, other.m_min);
    m_max = std::max(m_max, other.m_max);
}

LatencyHistogram LatencyHistogram::since(const LatencyHistogram &earlier) const
{
    LatencyHistogram window;
    for (std::size_t i = 0; i < buckets::kCount; ++i) {
        const std::uint64_t n = m_counts[i] > earlier.m_counts[i] ? m_counts[i] - earlier.m_counts[i] : 0;
        if (n == 0)
            continue;
        window.m_counts[i] = n;
        window.m_count += n;
        window.m_min = std::min(window.m_min, buckets::lowerBound(i));
        window.m_max = std::max(window.m_max, buckets::upperBound(i));
    }
    window.m_sum = m_sum > earlier.m_sum ? m_sum - earlier.m_sum : 0;
    if (window.m_count) {
        // Exact bounds where they are known: the overall max/min fell in this window.
        if (m_max > earlier.m_max || earlier.m_count == 0)
            window.m_max = m_max;
        if (m_min < earlier.m_min || earlier.m_count == 0)
            window.m_min = m_min;
        window.m_min = std::max(window.m_min, m_min);
        window.m_max = std::min(window.m_max, m_max);
    }
    return window;
}

void LatencyHistogram::clear()
{
    std::fill(m_counts.begin(), m_counts.end(), 0);
    m_count = 0;
    m_sum = 0;
    m_min = UINT64_MAX;
    m_max = 0;
}

namespace {

// The 1-based rank of percentile p among count values (nearest-rank).
std::uint64_t rankOf(double p, std::uint64_t count)
{
    const auto rank = std::uint64_t(std::ceil(std::max(p, 0.0) / 100.0 * double(count)));
    return std::clamp<std::uint64_t>(rank, 1, count);
}

// A bucket's value as reported: its midpoint, within the values actually recorded.
std::uint64_t midpointOf(std::size_t index, std::uint64_t min, std::uint64_t max)
{
    const std::uint64_t lo = buckets::lowerBound(index);
    return std::clamp(lo + (buckets::upperBound(index) - lo) / 2, min, max);
}

} // namespace

double LatencyHistogram::meanUs() const
{
    return m_count ? double(m_sum) / double(m_count) : 0.0;
}

std::uint64_t LatencyHistogram::percentileUs(double p) const
{
    if (m_count == 0)
        return 0;
    if (p >= 100.0)
        return m_max;
    const std::uint64_t rank = rankOf(p, m_count);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets::kCount; ++i) {
        seen += m_counts[i];
        if (seen >= rank)
            return midpointOf(i, m_min, m_max);
    }
    return m_max;
}

void SparseLatencyHistogram::record(std::uint64_t valueUs)
{
    const auto index = std::uint32_t(buckets::indexOf(valueUs));
    auto it = std::lower_bound(m_buckets.begin(), m_buckets.end(), index,
                               [](const Bucket &b, std::uint32_t i) { return b.index < i; });
    if (it != m_buckets.end() && it->index == index)
        ++it->count;
    else
        m_buckets.insert(it, Bucket{index, 1});
    ++m_count;
    m_min = std::min(m_min, valueUs);
    m_max = std::max(m_max, valueUs);
}

std::uint64_t SparseLatencyHistogram::percentileUs(double p) const
{
    if (m_count == 0)
        return 0;
    if (p >= 100.0)
        return m_max;
    const std::uint64_t rank = rankOf(p, m_count);
    std::uint64_t seen = 0;
    for (const Bucket &b : m_buckets) {
        seen += b.count;
        if (seen >= rank)
            return midpointOf(b.index, m_min, m_max);
    }
    return m_max;
}

QList<QPointF> LatencyHistogram::cdfMs(int maxPoints) const
{
    QList<QPointF> points;
    if (m_count == 0)
        return points;
    maxPoints = std::max(maxPoints, 8);
    // Keep a point when the fraction moved by a step, and always keep the tail above
    // p99 in full (that is where a CDF on a log axis is read).
    const double step = 1.0 / maxPoints;
    std::uint64_t seen = 0;
    double lastKept = -1.0;
    const std::size_t top = buckets::indexOf(m_max);
    for (std::size_t i = 0; i <= top && i < buckets::kCount; ++i) {
        if (m_counts[i] == 0)
            continue;
        seen += m_counts[i];
        const double fraction = double(seen) / double(m_count);
        const bool last = seen == m_count;
        if (last || fraction - lastKept >= step || fraction >= 0.99 || lastKept < 0) {
            const std::uint64_t value = std::clamp(buckets::upperBound(i), m_min, m_max);
            points.append(QPointF(double(value) / 1000.0, fraction));
            lastKept = fraction;
        }
        if (last)
            break;
    }
    return points;
}

LatencyRecorder::LatencyRecorder()
    : m_counts(new std::atomic<std::uint64_t>[buckets::kCount])
{
    for (std::size_t i = 0; i < buckets::kCount; ++i)
        m_counts[i].store(0, std::memory_order_relaxed);
}

void LatencyRecorder::record(std::uint64_t valueUs) noexcept
{
    m_counts[buckets::indexOf(valueUs)].fetch_add(1, std::memory_order_relaxed);
    m_sum.fetch_add(valueUs, std::memory_order_relaxed);
    std::uint64_t seen = m_min.load(std::memory_order_relaxed);
    while (valueUs < seen && !m_min.compare_exchange_weak(seen, valueUs, std::memory_order_relaxed)) {
    }
    seen = m_max.load(std::memory_order_relaxed);
    while (valueUs > seen && !m_max.compare_exchange_weak(seen, valueUs, std::memory_order_relaxed)) {
    }
}

void LatencyRecorder::recordExclusive(std::uint64_t valueUs) noexcept
{
    // One writer: plain loads and stores of atomics, which readers still see whole.
    std::atomic<std::uint64_t> &bucket = m_counts[buckets::indexOf(valueUs)];
    bucket.store(bucket.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    m_sum.store(m_sum.load(std::memory_order_relaxed) + valueUs, std::memory_order_relaxed);
    if (valueUs < m_min.load(std::memory_order_relaxed))
        m_min.store(valueUs, std::memory_order_relaxed);
    if (valueUs > m_max.load(std::memory_order_relaxed))
        m_max.store(valueUs, std::memory_order_relaxed);
}

void LatencyRecorder::addTo(LatencyHistogram &into) const
{
    // Count from the buckets so count and percentiles agree even while recording goes on.
    std::uint64_t added = 0;
    std::size_t first = buckets::kCount;
    std::size_t last = 0;
    for (std::size_t i = 0; i < buckets::kCount; ++i) {
        const std::uint64_t n = m_counts[i].load(std::memory_order_relaxed);
        if (n == 0)
            continue;
        into.m_counts[i] += n;
        added += n;
        first = std::min(first, i);
        last = i;
    }
    if (added == 0)
        return;
    into.m_count += added;
    into.m_sum += m_sum.load(std::memory_order_relaxed);
    // A record() racing with this read may have reached its bucket but not min/max yet
    // (or the reverse): trust min/max only when they agree with the buckets read.
    std::uint64_t min = m_min.load(std::memory_order_relaxed);
    std::uint64_t max = m_max.load(std::memory_order_relaxed);
    if (buckets::indexOf(min) != first)
        min = buckets::lowerBound(first);
    if (buckets::indexOf(max) != last)
        max = last == buckets::kCount - 1 ? std::max(max, buckets::lowerBound(last)) : buckets::upperBound(last);
    into.m_min = std::min(into.m_min, min);
    into.m_max = std::max(into.m_max, max);
}

LatencyHistogram LatencyRecorder::snapshot() const
{
    LatencyHistogram histogram;
    addTo(histogram);
    return histogram;
}

ShardedLatency::ShardedLatency(std::size_t shards)
{
    m_shards.reserve(std::max<std::size_t>(shards, 1));
    for (std::size_t i = 0; i < std::max<std::size_t>(shards, 1); ++i)
        m_shards.push_back(std::make_unique<LatencyRecorder>());
}

LatencyHistogram ShardedLatency::snapshot() const
{
    LatencyHistogram histogram;
    for (const auto &shard : m_shards)
        shard->addTo(histogram);
    return histogram;
}

} // namespace edgesse::metrics
