#include "core/routing/picker.h"

#include "core/util/random.h"

#include <algorithm>

namespace edgesse::routing {

namespace {

bool eligible(const Candidate &c, bool ignoreCaps)
{
    return ignoreCaps ? c.accepting : c.hasRoom();
}

} // namespace

// FNV-1a, then a splitmix64 round so nearby keys land far apart on the ring.
std::uint64_t Picker::hashKey(QByteArrayView key)
{
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : key) {
        h ^= std::uint8_t(c);
        h *= 0x100000001b3ULL;
    }
    return util::splitMix64(h);
}

Picker::Picker(scenario::BalancePolicy policy, int slotCount, std::uint64_t seed)
    : m_policy(policy)
    , m_random(seed)
{
    if (policy != scenario::BalancePolicy::Hash)
        return;
    m_ring.reserve(std::size_t(slotCount) * kVirtualNodes);
    for (int s = 0; s < slotCount; ++s) {
        for (int v = 0; v < kVirtualNodes; ++v) {
            const QByteArray point = "instance-" + QByteArray::number(s) + '#' + QByteArray::number(v);
            m_ring.emplace_back(hashKey(point), s);
        }
    }
    std::sort(m_ring.begin(), m_ring.end());
}

int Picker::pick(std::span<const Candidate> candidates, QByteArrayView key, bool ignoreCaps)
{
    switch (m_policy) {
    case scenario::BalancePolicy::RoundRobin:
        return roundRobin(candidates, ignoreCaps);
    case scenario::BalancePolicy::LeastConnections:
        return leastConnections(candidates, ignoreCaps);
    case scenario::BalancePolicy::Random:
        return random(candidates, ignoreCaps);
    case scenario::BalancePolicy::Hash:
        return key.isEmpty() ? roundRobin(candidates, ignoreCaps) : hashed(candidates, key, ignoreCaps);
    }
    return -1;
}

int Picker::roundRobin(std::span<const Candidate> candidates, bool ignoreCaps)
{
    const int n = int(candidates.size());
    for (int step = 1; step <= n; ++step) {
        const int i = (m_last + step + n) % n;
        if (eligible(candidates[std::size_t(i)], ignoreCaps))
            return m_last = i;
    }
    return -1;
}

int Picker::leastConnections(std::span<const Candidate> candidates, bool ignoreCaps)
{
    const int n = int(candidates.size());
    int best = -1;
    for (int step = 1; step <= n; ++step) {
        const int i = (m_last + step + n) % n;
        const Candidate &c = candidates[std::size_t(i)];
        if (eligible(c, ignoreCaps) && (best < 0 || c.connections < candidates[std::size_t(best)].connections))
            best = i;
    }
    if (best >= 0)
        m_last = best;
    return best;
}

int Picker::random(std::span<const Candidate> candidates, bool ignoreCaps)
{
    const auto count = std::count_if(candidates.begin(), candidates.end(),
                                      [ignoreCaps](const Candidate &c) { return eligible(c, ignoreCaps); });
    if (count == 0)
        return -1;
    auto chosen = std::int64_t(util::unitInterval(m_random) * double(count));
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (eligible(candidates[i], ignoreCaps) && chosen-- == 0)
            return int(i);
    }
    return -1;
}

int Picker::hashed(std::span<const Candidate> candidates, QByteArrayView key, bool ignoreCaps)
{
    if (m_ring.empty())
        return -1;
    const std::uint64_t h = hashKey(key);
    auto it = std::lower_bound(m_ring.begin(), m_ring.end(), std::make_pair(h, -1));
    for (std::size_t step = 0; step < m_ring.size(); ++step, ++it) {
        if (it == m_ring.end())
            it = m_ring.begin();
        const int slot = it->second;
        if (slot < int(candidates.size()) && eligible(candidates[std::size_t(slot)], ignoreCaps))
            return slot;
    }
    return -1;
}

} // namespace edgesse::routing
