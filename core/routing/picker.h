#pragma once

#include "core/scenario/scenario.h"

#include <QByteArrayView>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace edgesse::routing {

// What the balancer knows of one instance slot when it picks.
struct Candidate {
    bool accepting = false;   // up and taking new connections
    qint64 connections = 0;   // open through the balancer now
    qint64 cap = 0;           // max_connections; 0 = none
    bool hasRoom() const { return accepting && (cap == 0 || connections < cap); }
};

// Chooses an instance for a new connection by the node's policy, among the candidates that
// are accepting and below their cap (`ignoreCaps`: among every accepting one). Pure and
// deterministic for a given seed and call sequence.
//
// round-robin: the next eligible slot after the last one chosen.
// least-connections: the fewest open connections; ties go to the first after the last chosen.
// random: uniform over the eligible slots (util::splitMix64 from `seed`).
// hash: consistent hashing of `key` on a ring of kVirtualNodes points per slot; the key goes
//       to the first eligible slot clockwise, so a failed slot's keys — and only those — move,
//       each to the slot the ring names next. An empty key is spread round-robin.
class Picker
{
public:
    static constexpr int kVirtualNodes = 160;

    Picker(scenario::BalancePolicy policy, int slotCount, std::uint64_t seed);

    // The slot, or -1 when none is eligible.
    int pick(std::span<const Candidate> candidates, QByteArrayView key, bool ignoreCaps = false);

    static std::uint64_t hashKey(QByteArrayView key);

private:
    int roundRobin(std::span<const Candidate> candidates, bool ignoreCaps);
    int leastConnections(std::span<const Candidate> candidates, bool ignoreCaps);
    int random(std::span<const Candidate> candidates, bool ignoreCaps);
    int hashed(std::span<const Candidate> candidates, QByteArrayView key, bool ignoreCaps);

    scenario::BalancePolicy m_policy;
    int m_last = -1;
    std::uint64_t m_random;
    std::vector<std::pair<std::uint64_t, int>> m_ring; // (point, slot), sorted by point
};

} // namespace edgesse::routing
