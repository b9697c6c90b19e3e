#pragma once

#include "core/link/jitter.h"
#include "core/link/timing.h"

#include <algorithm>
#include <chrono>

namespace edgesse::link {

// Stage 3: the one-way trip, latency plus a seeded jitter offset drawn per piece, never
// below zero.
class Propagation
{
public:
    Propagation(std::chrono::microseconds latency, JitterDistribution distribution, std::chrono::microseconds jitter,
                std::uint64_t seed)
        : m_latency(latency)
        , m_jitter(distribution, jitter, seed)
    {
    }

    Nanos next() { return std::max(Nanos{0}, Nanos{m_latency} + m_jitter.next()); }
    Nanos latency() const { return m_latency; }
    Nanos lowest() const { return std::max(Nanos{0}, Nanos{m_latency} + m_jitter.lowest()); }
    Nanos highest() const { return Nanos{m_latency} + m_jitter.highest(); }

private:
    std::chrono::microseconds m_latency;
    JitterSampler m_jitter;
};

} // namespace edgesse::link
