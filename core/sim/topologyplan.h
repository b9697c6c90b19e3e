#pragma once

#include "core/link/linksettings.h"
#include "core/scenario/scenario.h"
#include "core/sim/publishschedule.h"
#include "core/sim/topologyparts.h"

#include <QString>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace edgesse::sim {

// What one variant brings up and where, decided before any socket exists: the nodes and
// links in use, the worker thread of each, every seed, every simulated browser. Pure: the
// same variant and thread count give the same plan. Refers into the variant it was made
// from (group and link configurations), which must outlive it.
struct TopologyPlan {
    struct Node {
        QString name;
        const scenario::Node *config = nullptr;
        bool origin = false;
        int thread = 0;
        int upstreamLink = -1; // a PoP's link to the origin (index into links), -1 for the origin
        std::uint64_t seed = 1; // a routed node's balancer (random policy)
    };
    struct Link {
        QString name; // "from->to"
        QString from; // client population or node (the side that connects)
        QString to;   // the node the link leads to
        int target = 0; // index into nodes
        const scenario::Link *config = nullptr;
        int thread = 0;
        int group = -1; // the population whose streams it carries, -1 between nodes
        link::LinkSettings settings;
        bool clientSide() const { return group >= 0; }
    };
    struct Group {
        QString name;
        QString node;   // where its streams connect
        int link = 0;   // index into links: the population's access link
        std::chrono::microseconds pathLatency{0}; // configured one-way latency publisher → group
        bool push = true; // SSE rather than polling
        // Failover (core/routing): access links to the node's fallback PoPs, in order, and when
        // the population's name resolves to which (0: its own link, k: fallbackLinks[k-1]).
        std::vector<int> fallbackLinks;
        std::vector<std::pair<std::chrono::microseconds, int>> resolution;
    };

    int threadCount = 1;
    std::vector<Node> nodes; // the origin first, then PoPs in the order the groups' paths name them
    std::vector<Link> links; // PoPs' upstream links in node order, then one per group
    std::vector<Group> groups; // as in the variant
    int publisherThread = 0;
    PublishSettings publisher;
    // Browsers spread round-robin over the threads; `port` is the access link's, filled in
    // by the live topology once the link listens.
    std::vector<std::vector<ClientsPart::Browser>> browsers;

    const Node *node(const QString &name) const;
    int nodeIndex(const QString &name) const;
    std::size_t browserCount() const;
};

// The plan for `variant` on `threadCount` threads, or nullopt with `error` set (no origin, a
// population without a path, a missing link). `simulatedClients` false plans no browsers.
std::optional<TopologyPlan> planTopology(const scenario::Variant &variant, int threadCount, bool simulatedClients,
                                         QString *error);

} // namespace edgesse::sim
