#include "core/link/jitter.h"

#include "core/util/random.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace edgesse::link {

namespace {

std::uint64_t rotl(std::uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

constexpr double kParetoShape = 2.0;
constexpr double kParetoCap = 10.0; // in units of jitter

} // namespace

Random::Random(std::uint64_t seed)
{
    std::uint64_t state = seed;
    for (auto &word : m_s)
        word = util::splitMix64(state);
}

std::uint64_t Random::next()
{
    const std::uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const std::uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

double Random::uniform()
{
    return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

std::uint64_t deriveSeed(std::uint64_t seed, std::uint64_t stream)
{
    std::uint64_t state = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    util::splitMix64(state);
    return util::splitMix64(state);
}

JitterSampler::JitterSampler(JitterDistribution distribution, std::chrono::microseconds jitter, std::uint64_t seed)
    : m_distribution(distribution)
    , m_jitterNs(static_cast<double>(std::max<std::int64_t>(0, jitter.count())) * 1000.0)
    , m_random(seed)
{
}

std::chrono::nanoseconds JitterSampler::next()
{
    if (m_jitterNs <= 0)
        return std::chrono::nanoseconds{0};
    double offset = 0;
    switch (m_distribution) {
    case JitterDistribution::Uniform:
        offset = (2.0 * m_random.uniform() - 1.0) * m_jitterNs;
        break;
    case JitterDistribution::Normal: {
        // Box-Muller, resampled outside +-2 sigma (about 1 draw in 22).
        for (;;) {
            const double u1 = 1.0 - m_random.uniform(); // (0, 1]
            const double u2 = m_random.uniform();
            const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
            if (z >= -2.0 && z <= 2.0) {
                offset = z * m_jitterNs / 2.0;
                break;
            }
        }
        break;
    }
    case JitterDistribution::Pareto: {
        const double u = 1.0 - m_random.uniform(); // (0, 1]
        const double x = std::pow(u, -1.0 / kParetoShape); // >= 1
        offset = std::min(x - 1.0, kParetoCap) * m_jitterNs;
        break;
    }
    }
    return std::chrono::nanoseconds{static_cast<std::int64_t>(std::llround(offset))};
}

std::chrono::nanoseconds JitterSampler::lowest() const
{
    const auto j = static_cast<std::int64_t>(std::llround(m_jitterNs));
    return std::chrono::nanoseconds{m_distribution == JitterDistribution::Pareto ? 0 : -j};
}

std::chrono::nanoseconds JitterSampler::highest() const
{
    const auto j = static_cast<std::int64_t>(std::llround(m_jitterNs));
    return std::chrono::nanoseconds{m_distribution == JitterDistribution::Pareto ? static_cast<std::int64_t>(kParetoCap) * j : j};
}

} // namespace edgesse::link
