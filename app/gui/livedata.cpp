#include "app/gui/livedata.h"

#include <cmath>
#include <limits>

namespace edgesse::gui {

namespace {

constexpr double kWindowSeconds = 0.1;

// Window k covers (k × 100 ms, (k + 1) × 100 ms]; warm-up samples (negative times) are left out.
std::optional<std::size_t> windowOf(double atSeconds)
{
    if (atSeconds < 0 || !std::isfinite(atSeconds))
        return std::nullopt;
    const double k = std::ceil(atSeconds / kWindowSeconds - 1e-6) - 1;
    return std::size_t(std::max(0.0, k));
}

} // namespace

metrics::VariantResult variantFromSnapshot(const sim::LiveSnapshot &snapshot)
{
    metrics::VariantResult v;
    v.name = snapshot.variant;
    v.durationS = std::max(0.0, snapshot.elapsedSeconds);
    v.events.published = snapshot.published;
    v.events.delivered = snapshot.delivered;
    v.streams.reconnects = snapshot.reconnects;
    v.streams.starved = snapshot.streamsStarved;

    metrics::TimeSeries &series = v.timeSeries;
    const int p50 = series.addChannel(metrics::series::kLatencyP50, QStringLiteral("ms"), metrics::Fold::Mean);
    const int p99 = series.addChannel(metrics::series::kLatencyP99, QStringLiteral("ms"), metrics::Fold::Max);
    const int max = series.addChannel(metrics::series::kLatencyMax, QStringLiteral("ms"), metrics::Fold::Max);
    const int rate = series.addChannel(metrics::series::kEventsPerSecond, QStringLiteral("1/s"), metrics::Fold::Mean);
    std::vector<int> nodeChannels;
    for (const auto &node : snapshot.nodes)
        nodeChannels.push_back(series.addChannel(metrics::series::connections(node.name), {}, metrics::Fold::Max));

    std::size_t windows = 0;
    for (const auto &point : snapshot.latency)
        if (const auto k = windowOf(point.atSeconds))
            windows = std::max(windows, *k + 1);
    for (const auto &node : snapshot.nodes)
        for (const auto &[at, open] : node.overTime)
            if (const auto k = windowOf(at))
                windows = std::max(windows, *k + 1);

    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<std::vector<double>> rows(windows, std::vector<double>(std::size_t(series.channelCount()), nan));
    for (const auto &point : snapshot.latency) {
        const auto k = windowOf(point.atSeconds);
        if (!k)
            continue;
        auto &row = rows[*k];
        row[std::size_t(p50)] = point.p50Ms;
        row[std::size_t(p99)] = point.p99Ms;
        row[std::size_t(max)] = point.maxMs;
        row[std::size_t(rate)] = point.eventsPerSecond;
    }
    for (std::size_t n = 0; n < snapshot.nodes.size(); ++n) {
        for (const auto &[at, open] : snapshot.nodes[n].overTime) {
            const auto k = windowOf(at);
            if (k)
                rows[*k][std::size_t(nodeChannels[n])] = double(open);
        }
        v.connections.byNodeMax[snapshot.nodes[n].name] = 0;
        for (const auto &[at, open] : snapshot.nodes[n].overTime)
            v.connections.byNodeMax[snapshot.nodes[n].name] =
                std::max<std::uint64_t>(v.connections.byNodeMax[snapshot.nodes[n].name], std::uint64_t(std::max<std::int64_t>(0, open)));
    }
    for (const auto &row : rows)
        series.append(row);

    for (const auto &link : snapshot.links) {
        metrics::LinkResult l;
        l.name = link.name;
        l.from = link.from;
        l.to = link.to;
        l.bytesDown = link.bytesDown;
        l.bytesUp = link.bytesUp;
        l.connections = link.connectionsOpen;
        l.reaps = link.reaps;
        v.bytes.total += link.bytesDown + link.bytesUp;
        v.links.push_back(l);
    }
    return v;
}

TopologyLoad topologyLoadFromSnapshot(const sim::LiveSnapshot &snapshot)
{
    TopologyLoad load;
    for (const auto &node : snapshot.nodes)
        load.connectionsByNode.insert(node.name, node.connectionsOpen);
    for (const auto &link : snapshot.links)
        load.links.append({link.from, link.to, link.bytesPerSecondDown + link.bytesPerSecondUp, link.connectionsOpen, link.reaps});
    return load;
}

} // namespace edgesse::gui
