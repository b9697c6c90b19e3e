#pragma once

#include "core/link/linksettings.h"

#include <chrono>
#include <cstdint>

namespace edgesse::link {

// xoshiro256**: small state (one per connection and direction, thousands at once), fast,
// and the same sequence on every platform for a given seed.
class Random
{
public:
    explicit Random(std::uint64_t seed = 0);
    std::uint64_t next();
    double uniform(); // [0, 1)

private:
    std::uint64_t m_s[4] = {};
};

// Seeds for independent streams (per connection, per direction) derived from one link seed.
std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream);

// Samples the offset added to a link's latency, reproducibly for a seed.
class JitterSampler
{
public:
    JitterSampler(JitterDistribution distribution, std::chrono::microseconds jitter, std::uint64_t seed);

    std::chrono::nanoseconds next();
    // Smallest and largest value next() can return.
    std::chrono::nanoseconds lowest() const;
    std::chrono::nanoseconds highest() const;

private:
    JitterDistribution m_distribution;
    double m_jitterNs;
    Random m_random;
};

} // namespace edgesse::link
