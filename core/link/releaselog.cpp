#include "core/link/releaselog.h"

#include <QHashFunctions>

#include <algorithm>

namespace edgesse::link {

void ReleaseLog::Record::Ring::add(const Entry &e)
{
    at(count) = e;
    ++count;
}

std::optional<std::size_t> ReleaseLog::Record::Ring::find(std::uint64_t offset) const
{
    const std::size_t kept = std::min(count, kEntries);
    // Entries are in offset order: the first whose end lies beyond the byte holds it.
    std::size_t lo = count - kept;
    std::size_t hi = count;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (at(mid).endOffset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == count)
        return std::nullopt;
    // The oldest kept entry may also hold a forgotten one's bytes: unknown then.
    if (lo == count - kept && count > kEntries)
        return std::nullopt;
    return lo;
}

void ReleaseLog::Record::add(Direction direction, std::uint64_t endOffset, TimePoint intended, TimePoint written)
{
    std::lock_guard lock(m_mutex);
    m_writes[index(direction)].add(Entry{endOffset, written, intended});
}

void ReleaseLog::Record::admit(Direction direction, std::uint64_t endOffset, TimePoint arrival, TimePoint release,
                               bool pinned)
{
    std::lock_guard lock(m_mutex);
    Ring &ring = m_spans[index(direction)];
    if (ring.count > 0) {
        Entry &last = ring.at(ring.count - 1);
        if (last.endOffset >= endOffset)
            return;
        if (!pinned && !last.pinned && last.at == arrival && last.release == release) {
            last.endOffset = endOffset; // the same read, the same release: one span
            return;
        }
    }
    ring.pinned = ring.pinned || pinned;
    ring.add(Entry{endOffset, arrival, release, pinned});
}

void ReleaseLog::Record::revise(Direction direction, std::uint64_t offset, TimePoint release)
{
    std::lock_guard lock(m_mutex);
    Ring &ring = m_spans[index(direction)];
    const std::optional<std::size_t> i = ring.find(offset);
    if (!i)
        return;
    const std::uint64_t start = *i > 0 ? ring.at(*i - 1).endOffset : 0;
    if (start == offset && (*i > ring.count - std::min(ring.count, kEntries) || *i == 0))
        ring.at(*i).release = release;
}

std::optional<ReleaseLog::Release> ReleaseLog::Record::find(Direction direction, std::uint64_t offset) const
{
    std::lock_guard lock(m_mutex);
    const Ring &writes = m_writes[index(direction)];
    const Ring &spans = m_spans[index(direction)];
    // The receiver may read a byte before the link has noted the write (another thread):
    // what the model meant was noted on admission, so that is enough.
    const std::optional<std::size_t> s = spans.find(offset);
    if (!s)
        return std::nullopt;
    const std::optional<std::size_t> w = writes.find(offset);
    const Entry &span = spans.at(*s);
    TimePoint intended = span.release;
    if (spans.pinned) {
        // In order: a byte leaves no earlier than every byte ahead of it (head-of-line).
        for (std::size_t i = spans.count - std::min(spans.count, kEntries); i < *s; ++i)
            intended = std::max(intended, spans.at(i).release);
    }
    return Release{span.at, intended, w ? writes.at(*w).at : TimePoint{}};
}

std::uint64_t ReleaseLog::key(const QHostAddress &client, quint16 port)
{
    bool v4 = false;
    const quint32 ip = client.toIPv4Address(&v4);
    const std::uint64_t address = v4 ? ip : static_cast<std::uint64_t>(qHash(client)) & 0xffffffffull;
    return (address << 16) | port;
}

std::shared_ptr<ReleaseLog::Record> ReleaseLog::open(const QHostAddress &client, quint16 port)
{
    auto record = std::make_shared<Record>();
    std::lock_guard lock(m_mutex);
    m_records[key(client, port)] = record;
    return record;
}

std::optional<ReleaseLog::Release> ReleaseLog::find(std::uint64_t k, Direction direction, std::uint64_t offset) const
{
    std::shared_ptr<Record> record;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_records.find(k);
        if (it == m_records.end())
            return std::nullopt;
        record = it->second;
    }
    return record->find(direction, offset);
}

std::shared_ptr<const ReleaseLog::Record> ReleaseLog::record(quint32 clientIPv4, quint16 port) const
{
    std::lock_guard lock(m_mutex);
    const auto it = m_records.find(key(clientIPv4, port));
    return it == m_records.end() ? nullptr : it->second;
}

std::optional<ReleaseLog::Release> ReleaseLog::intended(const QHostAddress &client, quint16 port, Direction direction,
                                                        std::uint64_t offset) const
{
    return find(key(client, port), direction, offset);
}

std::optional<ReleaseLog::Release> ReleaseLog::intended(quint32 clientIPv4, quint16 port, Direction direction,
                                                        std::uint64_t offset) const
{
    return find(key(clientIPv4, port), direction, offset);
}

} // namespace edgesse::link
