#pragma once

#include "core/link/timing.h"

#include <cstddef>
#include <cstdint>

namespace edgesse::link {

// Stage 2: serialisation on a line of `bitsPerSecond`. Holds at most `depthBytes` of tokens
// (a burst the line may send at once); each departure spends tokens and later bytes wait for
// new ones. One bucket may be shared by several flows (the connections of one browser on its
// access line, every connection over a node-to-node pipe): each call takes its turn on the
// line in call order. Not thread-safe: its flows live in the link's thread.
class TokenBucket
{
public:
    TokenBucket() = default;
    TokenBucket(std::uint64_t bitsPerSecond, std::size_t depthBytes);

    bool limited() const { return m_nsPerByte > 0; }
    // When the last of `bytes` bytes, ready at `ready`, has left.
    TimePoint depart(TimePoint ready, std::size_t bytes);
    // When the line is next idle: no queued byte departs after it.
    TimePoint idleAt() const { return m_emptyAt; }
    Nanos serialisation(std::size_t bytes) const;

private:
    double m_nsPerByte = 0;
    Nanos m_depth{0};
    TimePoint m_emptyAt{}; // the time its tokens were last brought to zero
};

} // namespace edgesse::link
