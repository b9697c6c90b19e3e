#include "core/sim/timescale.h"

#include <cmath>

namespace edgesse::sim {

namespace {

using std::chrono::microseconds;

microseconds times(microseconds d, double scale)
{
    return microseconds(std::llround(double(d.count()) * scale));
}

void dilate(std::optional<microseconds> &d, double scale)
{
    if (d)
        *d = times(*d, scale);
}

void dilateLink(scenario::Link &link, double scale)
{
    link.latency = times(link.latency, scale);
    link.jitter = times(link.jitter, scale);
    link.rto = times(link.rto, scale);
    if (link.bandwidthBitsPerSecond > 0)
        link.bandwidthBitsPerSecond = std::max<qint64>(1, std::llround(double(link.bandwidthBitsPerSecond) / scale));
    if (link.gateway) {
        dilate(link.gateway->idleTimeout, scale);
        dilate(link.gateway->maxDuration, scale);
    }
    for (auto &fault : link.faults) {
        fault.at = times(fault.at, scale);
        fault.downFor = times(fault.downFor, scale);
    }
}

void dilateRouting(scenario::Node &node, double scale)
{
    node.reresolution = times(node.reresolution, scale);
    node.acceptRate /= scale;
    if (node.autoscale) {
        node.autoscale->coldStart = times(node.autoscale->coldStart, scale);
        node.autoscale->scaleInAfter = times(node.autoscale->scaleInAfter, scale);
    }
    for (auto &fault : node.faults) {
        fault.at = times(fault.at, scale);
        fault.grace = times(fault.grace, scale);
        dilate(fault.downFor, scale);
    }
}

void slower(metrics::LatencySummary &l, double scale)
{
    for (double *x : {&l.mean, &l.p50, &l.p90, &l.p99, &l.p999, &l.max})
        *x /= scale;
}

void slower(metrics::PercentileSummary &p, double scale)
{
    for (double *x : {&p.p50, &p.p99, &p.max})
        *x /= scale;
}

// Latency channels ÷ scale, per-second channels × scale, the rest (counts) as they are.
metrics::TimeSeries seriesInModelledTime(const metrics::TimeSeries &series, double scale)
{
    std::vector<std::vector<double>> columns;
    for (int c = 0; c < series.channelCount(); ++c) {
        std::vector<double> values = series.viewValues(c);
        const QString &name = series.channels()[std::size_t(c)].name;
        const double factor = name.endsWith(QLatin1String("_ms")) ? 1.0 / scale
            : (name.endsWith(QLatin1String("_per_s")) || name.startsWith(metrics::series::kLinkBytesPrefix)) ? scale
                                                                                                              : 1.0;
        for (double &v : values)
            v *= factor;
        columns.push_back(std::move(values));
    }
    const auto interval = std::chrono::milliseconds(
        std::max<qint64>(1, std::llround(double(series.viewInterval().count()) / scale)));
    return metrics::TimeSeries::fromView(interval, series.channels(), columns);
}

void costInModelledTime(metrics::CostEstimate &cost, double modelledSeconds, double scale)
{
    double run = 0;
    for (auto &[item, amount] : cost.breakdown) {
        if (item == QLatin1String("connection_hours") || item == QLatin1String("gb_seconds")
            || item == QLatin1String("instance_hours"))
            amount /= scale;
        run += amount;
    }
    cost.run = run;
    cost.perHour = modelledSeconds > 0 ? run * 3600.0 / modelledSeconds : 0;
}

} // namespace

scenario::Variant dilated(scenario::Variant v, double scale)
{
    if (scale <= 1.0)
        return v;
    for (auto &node : v.nodes) {
        dilate(node.maxStreamDuration, scale);
        dilateRouting(node, scale);
    }
    v.timeScale = scale;
    for (auto &group : v.clients) {
        group.pollInterval = times(group.pollInterval, scale);
        group.longPollTimeout = times(group.longPollTimeout, scale);
        if (group.reconnect) { // a page's backoff is modelled time too
            dilate(group.reconnect->base, scale);
            group.reconnect->max = times(group.reconnect->max, scale);
        }
    }
    for (auto &link : v.links)
        dilateLink(link, scale);
    v.publisher.rate /= scale;
    dilate(v.sse.heartbeat, scale);
    v.sse.retry = times(v.sse.retry, scale);
    v.duration = times(v.duration, scale);
    v.warmup = times(v.warmup, scale);
    dilate(v.arrival, scale);
    return v;
}

void toModelledTime(metrics::VariantResult &r, double scale)
{
    r.timeScale = scale;
    r.wallS = r.durationS;
    if (scale <= 1.0)
        return;
    r.durationS /= scale;
    slower(r.latency, scale);
    slower(r.overhead, scale);
    slower(r.error.percentiles, scale);
    r.error.minMs /= scale;
    slower(r.timeToFirstEvent, scale);
    r.overheadAllowanceMs /= scale;
    r.publisher.askedPerSecond *= scale;
    r.publisher.achievedPerSecond *= scale;
    for (auto &g : r.groups) {
        slower(g.latency, scale);
        slower(g.timeToFirstEvent, scale);
        slower(g.error.percentiles, scale);
        g.error.minMs /= scale;
        g.stalledStreamSeconds /= scale;
    }
    r.stalledStreamSeconds /= scale;
    for (auto &s : r.streamSummaries) {
        if (s.timeToFirstEventMs >= 0)
            s.timeToFirstEventMs /= scale;
        s.latencyP50Ms /= scale;
        s.latencyP99Ms /= scale;
        s.latencyMaxMs /= scale;
    }
    for (auto &e : r.samples) {
        e.publishedUs = std::llround(double(e.publishedUs) / scale);
        e.receivedUs = std::llround(double(e.receivedUs) / scale);
    }
    for (QPointF &p : r.latencyCdf)
        p.setX(p.x() / scale);
    if (r.cost)
        costInModelledTime(*r.cost, r.durationS, scale);
    r.timeSeries = seriesInModelledTime(r.timeSeries, scale);
}

} // namespace edgesse::sim
