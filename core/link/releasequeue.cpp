#include "core/link/releasequeue.h"

#include <algorithm>
#include <cstring>

#include <sys/uio.h>

namespace edgesse::link {

namespace {

constexpr std::uint32_t kMaxSpanBytes = 1u << 30;

std::size_t roundUpPow2(std::size_t n)
{
    std::size_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

} // namespace

void ReleaseQueue::growBytes(std::size_t needed)
{
    if (m_byteCount + needed <= m_ring.size())
        return;
    std::vector<char> ring(roundUpPow2(std::max<std::size_t>(m_byteCount + needed, 64 * 1024)));
    const std::size_t mask = m_ring.size() - 1;
    const std::size_t first = m_ring.empty() ? 0 : std::min(m_byteCount, m_ring.size() - (m_byteHead & mask));
    if (first > 0)
        std::memcpy(ring.data(), m_ring.data() + (m_byteHead & mask), first);
    if (m_byteCount > first)
        std::memcpy(ring.data() + first, m_ring.data(), m_byteCount - first);
    m_ring.swap(ring);
    m_byteHead = 0;
}

void ReleaseQueue::growSpans()
{
    if (m_spanCount < m_spans.size())
        return;
    std::vector<Span> spans(std::max<std::size_t>(16, 2 * m_spans.size()));
    for (std::size_t i = 0; i < m_spanCount; ++i)
        spans[i] = spanAt(i);
    m_spans.swap(spans);
    m_spanHead = 0;
}

void ReleaseQueue::push(TimePoint release, const char *data, std::size_t size, bool pinned)
{
    if (size == 0)
        return;
    growBytes(size);
    const std::size_t mask = m_ring.size() - 1;
    const std::size_t tail = (m_byteHead + m_byteCount) & mask;
    const std::size_t first = std::min(size, m_ring.size() - tail);
    std::memcpy(m_ring.data() + tail, data, first);
    if (size > first)
        std::memcpy(m_ring.data(), data + first, size - first);
    m_byteCount += size;

    if (!pinned && m_spanCount > 0) {
        Span &last = spanAt(m_spanCount - 1);
        if (!last.pinned && !last.fin && last.release == release && last.length + size <= kMaxSpanBytes) {
            last.length += static_cast<std::uint32_t>(size);
            m_nextOffset += size;
            return;
        }
    }
    growSpans();
    spanAt(m_spanCount++) = Span{release, m_nextOffset, static_cast<std::uint32_t>(size), false, pinned};
    m_nextOffset += size;
}

void ReleaseQueue::pushFin(TimePoint release)
{
    growSpans();
    spanAt(m_spanCount++) = Span{release, m_nextOffset, 0, true, false};
}

std::size_t ReleaseQueue::pushReset(TimePoint release)
{
    std::size_t kept = 0;
    while (kept < m_spanCount && !spanAt(kept).fin && spanAt(kept).release <= release)
        ++kept;
    std::size_t dropped = 0;
    for (std::size_t i = kept; i < m_spanCount; ++i)
        dropped += spanAt(i).length;
    m_spanCount = kept;
    m_byteCount -= dropped;
    growSpans();
    spanAt(m_spanCount++) = Span{release, m_nextOffset, 0, true, false, true};
    return dropped;
}

bool ReleaseQueue::revise(std::uint64_t offset, TimePoint release)
{
    for (std::size_t i = 0; i < m_spanCount; ++i) {
        Span &span = spanAt(i);
        if (span.offset == offset && !span.fin && span.length > 0) {
            span.release = release;
            return true;
        }
        if (span.offset > offset)
            break;
    }
    return false;
}

std::size_t ReleaseQueue::released(TimePoint now, iovec (&iov)[2], int &count) const
{
    count = 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < m_spanCount; ++i) {
        const Span &span = spanAt(i);
        if (span.fin || span.release > now)
            break;
        total += span.length;
    }
    if (total == 0)
        return 0;
    // A consumed part of the head span is already gone from the byte count.
    total = std::min(total, m_byteCount);
    const std::size_t mask = m_ring.size() - 1;
    const std::size_t head = m_byteHead & mask;
    const std::size_t first = std::min(total, m_ring.size() - head);
    iov[0].iov_base = const_cast<char *>(m_ring.data() + head);
    iov[0].iov_len = first;
    count = 1;
    if (total > first) {
        iov[1].iov_base = const_cast<char *>(m_ring.data());
        iov[1].iov_len = total - first;
        count = 2;
    }
    return total;
}

TimePoint ReleaseQueue::consume(std::size_t bytes)
{
    TimePoint latest{};
    m_byteHead = (m_byteHead + bytes) & (m_ring.size() - 1);
    m_byteCount -= bytes;
    while (bytes > 0 && m_spanCount > 0) {
        Span &span = spanAt(0);
        latest = std::max(latest, span.release);
        if (bytes < span.length) {
            span.length -= static_cast<std::uint32_t>(bytes);
            span.offset += bytes;
            return latest;
        }
        bytes -= span.length;
        m_spanHead = (m_spanHead + 1) & (m_spans.size() - 1);
        --m_spanCount;
    }
    return latest;
}

void ReleaseQueue::popFin()
{
    if (m_spanCount > 0 && spanAt(0).fin) {
        m_spanHead = (m_spanHead + 1) & (m_spans.size() - 1);
        --m_spanCount;
    }
}

void ReleaseQueue::clear()
{
    m_byteHead = 0;
    m_byteCount = 0;
    m_spanHead = 0;
    m_spanCount = 0;
}

} // namespace edgesse::link
