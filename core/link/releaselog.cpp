#include "core/link/releaselog.h"

#include <QHashFunctions>

#include <algorithm>

namespace edgesse::link {

void ReleaseLog::Record::add(Direction direction, std::uint64_t endOffset, TimePoint intended, TimePoint written)
{
    std::lock_guard lock(m_mutex);
    Ring &ring = m_rings[direction == Direction::Upstream ? 0 : 1];
    ring.entries[ring.count % kEntries] = Entry{endOffset, intended, written};
    ++ring.count;
}

std::optional<ReleaseLog::Release> ReleaseLog::Record::find(Direction direction, std::uint64_t offset) const
{
    std::lock_guard lock(m_mutex);
    const Ring &ring = m_rings[direction == Direction::Upstream ? 0 : 1];
    const std::size_t kept = std::min(ring.count, kEntries);
    // Entries are in offset order: the first whose end lies beyond the byte wrote it.
    for (std::size_t i = ring.count - kept; i < ring.count; ++i) {
        const Entry &e = ring.entries[i % kEntries];
        if (e.endOffset <= offset)
            continue;
        // The oldest kept entry may also have ended a forgotten one's bytes: unknown then.
        if (i == ring.count - kept && ring.count > kEntries)
            return std::nullopt;
        return Release{e.intended, e.written};
    }
    return std::nullopt;
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

std::optional<ReleaseLog::Release> ReleaseLog::intended(const QHostAddress &client, quint16 port, Direction direction,
                                                        std::uint64_t offset) const
{
    std::shared_ptr<Record> record;
    {
        std::lock_guard lock(m_mutex);
        const auto it = m_records.find(key(client, port));
        if (it == m_records.end())
            return std::nullopt;
        record = it->second;
    }
    return record->find(direction, offset);
}

} // namespace edgesse::link
