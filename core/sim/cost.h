#pragma once

#include "core/metrics/runresult.h"

#include <cstdint>

namespace edgesse::scenario {
struct Pricing;
}

namespace edgesse::sim {

// What a run used, in the units price lists bill.
struct Usage {
    std::uint64_t requests = 0;    // HTTP requests served to clients (stream opens, reconnects, polls)
    std::uint64_t egressBytes = 0; // bytes sent to clients by the nodes they connect to
    double connectionSeconds = 0;  // client connections held open, summed
    double executionSeconds = 0;   // time client requests were being served (one instance each)
    double runSeconds = 0;         // the measured duration the usage covers
    double instanceSeconds = 0;    // routed nodes' instances running (cold starts included), summed
};

// Applies a price list to a run's usage: the run's cost, its breakdown ("requests",
// "egress", "connection_hours", "gb_seconds",
// "instance_hours", "instance_gb_seconds") and the same load extrapolated to an hour.
metrics::CostEstimate estimateCost(const scenario::Pricing &pricing, const Usage &usage);

} // namespace edgesse::sim
