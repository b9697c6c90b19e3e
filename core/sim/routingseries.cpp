#include "core/sim/routingseries.h"

namespace edgesse::sim {

void RoutingSeries::addChannels(metrics::TimeSeries &series, const TopologyPlan &plan, const LiveTopology &live)
{
    using metrics::Fold;
    m_last.assign(plan.nodes.size(), {});
    for (std::size_t n = 0; n < plan.nodes.size(); ++n) {
        const routing::InstancePool *pool = live.pool(n);
        if (!pool)
            continue;
        const QString &name = plan.nodes[n].name;
        series.addChannel(instances(name), {}, Fold::Last);
        series.addChannel(starting(name), {}, Fold::Last);
        for (int i = 0; i < pool->slotCount(); ++i)
            series.addChannel(instanceConnections(name, i), {}, Fold::Last);
        series.addChannel(attempts(name), {}, Fold::Sum);
        series.addChannel(rejected(name), {}, Fold::Sum);
        series.addChannel(moved(name), {}, Fold::Sum);
        series.addChannel(waiting(name), {}, Fold::Last);
    }
}

void RoutingSeries::sample(std::vector<double> &row, const metrics::TimeSeries &series, const TopologyPlan &plan,
                           const LiveTopology &live)
{
    const auto set = [&](const QString &channel, double value) {
        const int c = series.channelIndex(channel);
        if (c >= 0)
            row[std::size_t(c)] = value;
    };
    for (std::size_t n = 0; n < plan.nodes.size() && n < m_last.size(); ++n) {
        const routing::InstancePool *pool = live.pool(n);
        if (!pool)
            continue;
        const QString &name = plan.nodes[n].name;
        const routing::InstancePool::Snapshot s = pool->snapshot();
        set(instances(name), s.running);
        set(starting(name), s.starting);
        for (std::size_t i = 0; i < s.connections.size(); ++i)
            set(instanceConnections(name, int(i)), double(s.connections[i]));
        Last &last = m_last[n];
        set(attempts(name), double(s.attempts - last.attempts));
        set(rejected(name), double(s.rejected - last.rejected));
        set(moved(name), double(s.moved - last.moved));
        set(waiting(name), double(s.waiting));
        last = {s.attempts, s.rejected, s.moved};
    }
}

double RoutingSeries::instanceSeconds(const TopologyPlan &plan, const LiveTopology &live,
                                      std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to)
{
    double seconds = 0;
    for (std::size_t n = 0; n < plan.nodes.size(); ++n)
        if (const routing::InstancePool *pool = live.pool(n))
            seconds += pool->instanceSeconds(from, to);
    return seconds;
}

} // namespace edgesse::sim
