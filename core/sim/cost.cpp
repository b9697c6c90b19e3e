#include "core/sim/cost.h"

#include "core/scenario/scenario.h"

namespace edgesse::sim {

metrics::CostEstimate estimateCost(const scenario::Pricing &pricing, const Usage &usage)
{
    constexpr double kGb = 1e9;                            // egress is billed in decimal GB
    constexpr double kGbMemory = 1024.0 * 1024.0 * 1024.0; // memory in binary GB
    const double requests = double(usage.requests) / 1e6 * pricing.perMillionRequests;
    const double egress = double(usage.egressBytes) / kGb * pricing.perGbEgress;
    const double connections = usage.connectionSeconds / 3600.0 * pricing.perConnectionHour;
    const double compute = usage.executionSeconds * (double(pricing.memoryBytes) / kGbMemory) * pricing.perGbSecond;
    const double instances = usage.instanceSeconds / 3600.0 * pricing.perInstanceHour;
    const double instanceMemory = usage.instanceSeconds * (double(pricing.memoryBytes) / kGbMemory) * pricing.perInstanceGbSecond;

    metrics::CostEstimate cost;
    cost.currency = pricing.currency;
    cost.breakdown[QStringLiteral("requests")] = requests;
    cost.breakdown[QStringLiteral("egress")] = egress;
    cost.breakdown[QStringLiteral("connection_hours")] = connections;
    cost.breakdown[QStringLiteral("gb_seconds")] = compute;
    cost.breakdown[QStringLiteral("instance_hours")] = instances;
    cost.breakdown[QStringLiteral("instance_gb_seconds")] = instanceMemory;
    cost.run = requests + egress + connections + compute + instances + instanceMemory;
    cost.perHour = usage.runSeconds > 0 ? cost.run * 3600.0 / usage.runSeconds : 0.0;
    return cost;
}

} // namespace edgesse::sim
