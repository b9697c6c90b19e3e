#pragma once

#include "core/metrics/timeseries.h"
#include "core/sim/livetopology.h"
#include "core/sim/topologyplan.h"

#include <QString>

#include <chrono>
#include <vector>

namespace edgesse::sim {

// The time-series channels of routed nodes (core/routing), one set a node X:
//   instances:X              instances serving (Last)
//   instances_starting:X     instances in their cold start (Last)
//   instance_connections:X#i connections open through the balancer to slot i (Last)
//   attempts:X               connections that reached the balancer in the window (Sum)
//   rejected:X               of them answered 503 by the balancer (Sum)
//   moved:X                  keyed clients routed to another instance than before (Sum)
//   waiting:X                connections held for a starting instance (Last)
// Used from the collector's thread only.
class RoutingSeries
{
public:
    void addChannels(metrics::TimeSeries &series, const TopologyPlan &plan, const LiveTopology &live);
    void sample(std::vector<double> &row, const metrics::TimeSeries &series, const TopologyPlan &plan, const LiveTopology &live);
    // Instance time of every routed node within [from, to].
    static double instanceSeconds(const TopologyPlan &plan, const LiveTopology &live, std::chrono::steady_clock::time_point from,
                                  std::chrono::steady_clock::time_point to);

    static QString instances(const QString &node) { return QStringLiteral("instances:") + node; }
    static QString starting(const QString &node) { return QStringLiteral("instances_starting:") + node; }
    static QString instanceConnections(const QString &node, int slot)
    {
        return QStringLiteral("instance_connections:%1#%2").arg(node).arg(slot);
    }
    static QString attempts(const QString &node) { return QStringLiteral("attempts:") + node; }
    static QString rejected(const QString &node) { return QStringLiteral("rejected:") + node; }
    static QString moved(const QString &node) { return QStringLiteral("moved:") + node; }
    static QString waiting(const QString &node) { return QStringLiteral("waiting:") + node; }

private:
    struct Last {
        std::uint64_t attempts = 0;
        std::uint64_t rejected = 0;
        std::uint64_t moved = 0;
    };
    std::vector<Last> m_last; // by plan node
};

} // namespace edgesse::sim
