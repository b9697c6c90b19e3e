#include "core/sse/replaybuffer.h"

#include <algorithm>

namespace edgesse::sse {

void ReplayBuffer::append(std::uint64_t seq, QByteArray encoded)
{
    m_lastSeq = std::max(m_lastSeq, seq);
    if (m_capacity == 0)
        return;
    if (!m_entries.empty() && seq <= m_entries.back().seq)
        return; // out of order or repeated: keep the buffer sorted
    m_bytes += encoded.size() + kEntryOverheadBytes;
    m_entries.push_back({seq, std::move(encoded)});
    while (!m_entries.empty() && (m_entries.size() > m_capacity || m_bytes > m_maxBytes))
        dropOldest();
}

void ReplayBuffer::dropOldest()
{
    m_bytes -= m_entries.front().encoded.size() + kEntryOverheadBytes;
    m_entries.pop_front();
}

ReplayBuffer::Since ReplayBuffer::since(std::uint64_t after) const
{
    Since result;
    result.begin = std::upper_bound(m_entries.begin(), m_entries.end(), after,
                                    [](std::uint64_t value, const Entry &e) { return value < e.seq; });
    result.end = m_entries.end();
    if (after >= m_lastSeq) {
        result.lost = 0;
    } else if (m_entries.empty()) {
        result.lost = m_lastSeq - after;
    } else {
        const std::uint64_t first = m_entries.front().seq;
        result.lost = first > after + 1 ? first - after - 1 : 0;
    }
    return result;
}

std::optional<std::uint64_t> ReplayBuffer::firstHeldSeq() const
{
    if (m_entries.empty())
        return std::nullopt;
    return m_entries.front().seq;
}

} // namespace edgesse::sse
