#pragma once

#include <cstdint>

// The one seeded-random helper of the code base: splitmix64 (Steele, Lea and Flood,
// "Fast splittable pseudorandom number generators", 2014). Eight bytes of state, the same
// sequence on every platform for a given seed, cheap enough for one per stream.
namespace edgesse::util {

inline constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

// Advances `state` and returns the next value of its sequence.
constexpr std::uint64_t splitMix64(std::uint64_t &state)
{
    std::uint64_t z = (state += kGoldenGamma);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

// Advances `state`; a uniform double in [0, 1).
constexpr double unitInterval(std::uint64_t &state)
{
    return static_cast<double>(splitMix64(state) >> 11) * 0x1.0p-53;
}

// A seed for one purpose (a link, a browser, the publisher) derived from a run's seed, so
// that adding one consumer does not change the draws of another.
constexpr std::uint64_t derivedSeed(std::uint64_t seed, std::uint64_t purpose)
{
    std::uint64_t state = seed + kGoldenGamma * purpose;
    return splitMix64(state);
}

} // namespace edgesse::util
