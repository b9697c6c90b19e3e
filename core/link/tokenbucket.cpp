#include "core/link/tokenbucket.h"

#include <algorithm>

namespace edgesse::link {

TokenBucket::TokenBucket(std::uint64_t bitsPerSecond, std::size_t depthBytes)
    : m_nsPerByte(bitsPerSecond > 0 ? 8e9 / static_cast<double>(bitsPerSecond) : 0)
    , m_depth(serialisation(depthBytes))
{
}

Nanos TokenBucket::serialisation(std::size_t bytes) const
{
    return Nanos{static_cast<std::int64_t>(m_nsPerByte * static_cast<double>(bytes))};
}

TimePoint TokenBucket::depart(TimePoint ready, std::size_t bytes)
{
    if (!limited())
        return ready;
    m_emptyAt = std::max(m_emptyAt, ready - m_depth) + serialisation(bytes);
    return std::max(ready, m_emptyAt);
}

} // namespace edgesse::link
