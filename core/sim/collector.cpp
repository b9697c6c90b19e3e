#include "core/sim/collector.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace edgesse::sim {

namespace series = metrics::series;

namespace {

double seconds(Collector::Clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

// How far above its path's configured latency the scenario itself can put an event: the
// jitter bound of every link on the path (the link proxy draws Pareto delays up to 10× the
// jitter) and, where loss touches more than 1% of events, the loss-recovery delay. The
// worst push path of the variant; overhead beyond it is the machine's.
double overheadAllowanceMs(const scenario::Variant &v)
{
    constexpr double kParetoBound = 10.0;
    constexpr double kLossReachesP99 = 0.01;
    double worst = 0;
    for (const scenario::ClientGroup &group : v.clients) {
        if (group.delivery != scenario::Delivery::Sse)
            continue;
        double allowance = 0;
        for (const scenario::Link *l : v.pathLinks(group)) {
            const double jitterMs = std::chrono::duration<double, std::milli>(l->jitter).count();
            allowance += l->jitterDistribution == scenario::JitterDistribution::Pareto ? kParetoBound * jitterMs : jitterMs;
            if (l->loss >= kLossReachesP99)
                allowance += std::chrono::duration<double, std::milli>(l->lossPenalty()).count();
        }
        worst = std::max(worst, allowance);
    }
    return worst;
}

// What a group's streams speak: http1, http2 or http3, or its polling kind.
QString protocolName(const scenario::Variant &v, const scenario::ClientGroup &group)
{
    if (group.delivery != scenario::Delivery::Sse)
        return scenario::keyword(group.delivery);
    return scenario::keyword(v.protocolFor(group));
}

} // namespace

Collector::Collector(const scenario::Variant &variant, const TopologyPlan &plan, LiveTopology &live)
    : m_v(variant)
    , m_plan(plan)
    , m_live(live)
    , m_linkLastBytes(plan.links.size(), 0)
    , m_nodeMaxConnections(plan.nodes.size(), 0)
{
    addChannels();
}

// Time series channels, fixed before the first row.
void Collector::addChannels()
{
    using metrics::Fold;
    m_series.addChannel(series::kLatencyP50, QStringLiteral("ms"), Fold::Mean);
    m_series.addChannel(series::kLatencyP90, QStringLiteral("ms"), Fold::Mean);
    m_series.addChannel(series::kLatencyP99, QStringLiteral("ms"), Fold::Max);
    m_series.addChannel(series::kLatencyMax, QStringLiteral("ms"), Fold::Max);
    m_series.addChannel(series::kEventsPerSecond, QStringLiteral("1/s"), Fold::Mean);
    m_series.addChannel(series::kPublishedPerSecond, QStringLiteral("1/s"), Fold::Mean);
    m_series.addChannel(series::kStreamsOpen, {}, Fold::Last);
    m_series.addChannel(series::kReconnects, {}, Fold::Sum);
    for (const auto &n : m_plan.nodes)
        m_series.addChannel(series::connections(n.name), {}, Fold::Max);
    for (const auto &l : m_plan.links)
        m_series.addChannel(series::linkBytesPerSecond(l.name), QStringLiteral("B/s"), Fold::Mean);
    m_routing.addChannels(m_series, m_plan, m_live);
}

void Collector::startMeasuring()
{
    RunShared &shared = m_live.shared();
    shared.measureFromSeq = shared.log.published() + 1;
    m_lastLatency = shared.allLatency.snapshot();
    m_atStart = read();
    m_measuring = true;
}

void Collector::endMeasuring()
{
    if (m_atEnd)
        return;
    m_atEnd = read();
    m_measuring = false;
}

Collector::Counters Collector::read() const
{
    Counters c;
    for (std::size_t i = 0; i < m_plan.links.size(); ++i)
        c.links.push_back(m_live.linkCounters(i));
    for (std::size_t n = 0; n < m_plan.nodes.size(); ++n) {
        const sse::ServerStats stats = m_live.serverStats(n);
        c.rejected.push_back(stats.connectionsRejected);
        c.quicGarbage.push_back(stats.quicDatagramsDropped);
    }
    return c;
}

Collector::Sample Collector::sample(double atSeconds)
{
    Sample out;
    std::vector<double> row = m_series.emptyRow();
    out.live.variant = m_v.name;
    out.live.valid = true;
    sampleLatency(row, out.latency);
    sampleStreams(row, out.live);
    sampleLinks(row, out.live);
    m_routing.sample(row, m_series, m_plan, m_live);
    m_series.append(row);
    fillLiveView(atSeconds, out.live);
    return out;
}

void Collector::sampleLatency(std::vector<double> &row, metrics::LatencyHistogram &latency)
{
    latency = m_live.shared().allLatency.snapshot();
    const metrics::LatencyHistogram window = latency.since(m_lastLatency);
    m_lastLatency = latency;
    if (window.isEmpty())
        return;
    row[std::size_t(m_series.channelIndex(series::kLatencyP50))] = window.percentileMs(50);
    row[std::size_t(m_series.channelIndex(series::kLatencyP90))] = window.percentileMs(90);
    row[std::size_t(m_series.channelIndex(series::kLatencyP99))] = window.percentileMs(99);
    row[std::size_t(m_series.channelIndex(series::kLatencyMax))] = window.percentileMs(100);
}

void Collector::sampleStreams(std::vector<double> &row, LiveSnapshot &live)
{
    const double perSecond = 1.0 / seconds(kSampleInterval);
    std::uint64_t delivered = 0, reconnects = 0;
    std::int64_t open = 0, starved = 0;
    for (const auto &r : m_live.recorders()) {
        delivered += r->live().delivered.load(std::memory_order_relaxed);
        reconnects += r->live().reconnects.load(std::memory_order_relaxed);
        open += r->live().streamsOpen.load(std::memory_order_relaxed);
        starved += r->live().streamsStarved.load(std::memory_order_relaxed);
    }
    const std::uint64_t published = m_live.shared().log.published();
    row[std::size_t(m_series.channelIndex(series::kEventsPerSecond))] = double(delivered - m_lastDelivered) * perSecond;
    row[std::size_t(m_series.channelIndex(series::kPublishedPerSecond))] = double(published - m_lastPublished) * perSecond;
    row[std::size_t(m_series.channelIndex(series::kStreamsOpen))] = double(open);
    row[std::size_t(m_series.channelIndex(series::kReconnects))] = double(reconnects - m_lastReconnects);
    m_lastDelivered = delivered;
    m_lastPublished = published;
    m_lastReconnects = reconnects;
    live.published = published;
    live.delivered = delivered;
    live.reconnects = reconnects;
    live.streamsOpen = std::uint64_t(std::max<std::int64_t>(open, 0));
    live.streamsStarved = std::uint64_t(std::max<std::int64_t>(starved, 0));
}

// Connections at a node = the connections its server accepted and holds open (503s not
// included: they are counted beside, as rejected).
void Collector::sampleLinks(std::vector<double> &row, LiveSnapshot &live)
{
    const double perSecond = 1.0 / seconds(kSampleInterval);
    std::vector<std::uint64_t> byNode(m_plan.nodes.size(), 0);
    for (std::size_t n = 0; n < m_plan.nodes.size(); ++n)
        byNode[n] = std::uint64_t(std::max<qint64>(m_live.serverStats(n).connectionsOpen, 0));
    for (std::size_t i = 0; i < m_plan.links.size(); ++i) {
        const TopologyPlan::Link &l = m_plan.links[i];
        const link::Counters c = m_live.linkCounters(i);
        const std::uint64_t bytes = c.upstream.bytes + c.downstream.bytes;
        const double rate = double(bytes - m_linkLastBytes[i]) * perSecond;
        m_linkLastBytes[i] = bytes;
        row[std::size_t(m_series.channelIndex(series::linkBytesPerSecond(l.name)))] = rate;
        LiveSnapshot::LinkLoad load;
        load.name = l.name;
        load.from = l.from;
        load.to = l.to;
        load.bytesPerSecondDown = rate;
        load.bytesDown = c.downstream.bytes;
        load.bytesUp = c.upstream.bytes;
        load.connectionsOpen = c.connectionsOpen;
        for (auto reaped : c.reaps)
            load.reaps += reaped;
        live.links.push_back(load);
    }
    for (std::size_t n = 0; n < m_plan.nodes.size(); ++n) {
        if (m_measuring)
            m_nodeMaxConnections[n] = std::max(m_nodeMaxConnections[n], byNode[n]);
        row[std::size_t(m_series.channelIndex(series::connections(m_plan.nodes[n].name)))] = double(byNode[n]);
        live.nodes.push_back({m_plan.nodes[n].name, std::int64_t(byNode[n]), {}});
    }
}

// The live view: latency and connections over time from the series so far.
void Collector::fillLiveView(double atSeconds, LiveSnapshot &live) const
{
    const std::vector<double> times = m_series.viewTimes();
    const std::vector<double> p50s = m_series.viewValues(m_series.channelIndex(series::kLatencyP50));
    const std::vector<double> p99s = m_series.viewValues(m_series.channelIndex(series::kLatencyP99));
    const std::vector<double> maxes = m_series.viewValues(m_series.channelIndex(series::kLatencyMax));
    const std::vector<double> rates = m_series.viewValues(m_series.channelIndex(series::kEventsPerSecond));
    const double offset = atSeconds - (times.empty() ? 0.0 : times.back());
    for (std::size_t i = 0; i < times.size(); ++i)
        live.latency.push_back({times[i] + offset, p50s[i], p99s[i], maxes[i], rates[i]});
    for (auto &node : live.nodes) {
        const std::vector<double> values = m_series.viewValues(m_series.channelIndex(series::connections(node.name)));
        for (std::size_t i = 0; i < times.size(); ++i) {
            if (!std::isnan(values[i]))
                node.overTime.emplace_back(times[i] + offset, std::int64_t(values[i]));
        }
    }
}

metrics::VariantResult Collector::finalise(Clock::time_point measureStart, Clock::time_point measureEnd,
                                           bool keepStreamRows)
{
    RunShared &shared = m_live.shared();
    const std::uint64_t lastSeq = shared.log.published();
    const std::uint64_t firstSeq = std::min(shared.measureFromSeq.load(), lastSeq + 1);

    endMeasuring();
    std::vector<StreamRecorder::GroupTotals> totals(m_plan.groups.size());
    std::vector<metrics::StreamSummary> rows;
    m_live.onEachThread([&](int i) {
        m_live.recorders()[std::size_t(i)]->collect(lastSeq, totals, keepStreamRows ? &rows : nullptr);
    });

    metrics::VariantResult r;
    r.name = m_v.name;
    r.resolved = scenario::toJson(m_v);
    r.durationS = seconds(measureEnd - measureStart);
    r.events.published = lastSeq >= firstSeq ? lastSeq - firstSeq + 1 : 0;
    Usage usage;
    usage.runSeconds = r.durationS;
    usage.instanceSeconds = RoutingSeries::instanceSeconds(m_plan, m_live, measureStart, measureEnd);
    finaliseGroups(totals, r, usage);
    finaliseLinks(totals, r);
    for (const metrics::LinkResult &l : r.links) {
        if (m_plan.links[std::size_t(&l - r.links.data())].clientSide())
            usage.egressBytes += l.bytesDown;
    }
    for (std::size_t n = 0; n < m_plan.nodes.size(); ++n) {
        r.connections.byNodeMax[m_plan.nodes[n].name] = m_nodeMaxConnections[n];
        r.connections.rejectedByNode[m_plan.nodes[n].name] =
            std::uint64_t(std::max<qint64>(m_atEnd->rejected[n] - m_atStart.rejected[n], 0));
        if (m_plan.nodes[n].origin)
            r.connections.originMax = m_nodeMaxConnections[n];
    }
    if (m_v.pricing)
        r.cost = estimateCost(*m_v.pricing, usage);
    finaliseServers(r);
    r.timeSeries = m_series;
    r.streamSummaries = std::move(rows);
    r.checkTrust();
    r.checkServerLoad();
    return r;
}

// What the publisher achieved against what it was asked, and what the servers closed on
// their own (readers too slow, connections that never completed a request or sat idle).
void Collector::finaliseServers(metrics::VariantResult &r) const
{
    r.publisher.askedPerSecond = m_v.publisher.rate;
    r.publisher.achievedPerSecond = r.durationS > 0 ? double(r.events.published) / r.durationS : 0;
    r.publisher.fellBehind = m_live.publisherFellBehind();
    std::uint64_t slow = 0, request = 0, header = 0, idle = 0;
    for (std::size_t n = 0; n < m_plan.nodes.size(); ++n) {
        const sse::ServerStats s = m_live.serverStats(n);
        slow += std::uint64_t(s.slowConsumersDropped);
        request += std::uint64_t(s.requestTimeouts);
        header += std::uint64_t(s.headerTimeouts);
        idle += std::uint64_t(s.idleTimeouts);
    }
    r.serverClosesByCause = {{QStringLiteral("slow_consumer"), slow},
                             {QStringLiteral("request_timeout"), request},
                             {QStringLiteral("header_timeout"), header},
                             {QStringLiteral("idle_timeout"), idle}};
}

void Collector::finaliseGroups(const std::vector<StreamRecorder::GroupTotals> &totals, metrics::VariantResult &r,
                               Usage &usage) const
{
    metrics::LatencyHistogram all, overhead, ttfe, error;
    for (std::size_t g = 0; g < m_plan.groups.size(); ++g) {
        const GroupMetrics &gm = *m_live.shared().groups[g];
        const StreamRecorder::GroupTotals &gt = totals[g];
        metrics::GroupResult group;
        group.name = gm.name;
        group.protocol = protocolName(m_v, m_v.clients[g]);
        group.stalledStreamSeconds = gt.stalledStreamSeconds;
        r.stalledStreamSeconds += gt.stalledStreamSeconds;
        const metrics::LatencyHistogram latency = gm.latency.snapshot();
        const metrics::LatencyHistogram firstEvent = gm.timeToFirstEvent.snapshot();
        group.latency = metrics::LatencySummary::from(latency);
        group.timeToFirstEvent = metrics::PercentileSummary::from(firstEvent);
        group.events.published = r.events.published;
        group.events.add(gt.account);
        group.streams.add(gt.account);
        group.streams.total = gt.streams;
        group.streams.starved = gt.starved;
        group.streams.neverServed = gt.neverServed;
        group.streams.rejected = gt.rejected;
        const metrics::LatencyHistogram groupError = gm.error.snapshot();
        group.error.percentiles = metrics::PercentileSummary::from(groupError);
        group.error.minMs = double(groupError.minUs()) / 1000.0;
        group.error.unmatched = gm.errorUnmatched.load(std::memory_order_relaxed);
        error.merge(groupError);
        r.error.unmatched += group.error.unmatched;
        r.events.add(gt.account);
        r.streams.add(gt.account);
        r.streams.total += gt.streams;
        r.streams.starved += gt.starved;
        r.streams.neverServed += gt.neverServed;
        r.streams.rejected += gt.rejected;
        r.requests += gt.requests;
        r.bytes.heartbeat += gt.heartbeatBytes;
        all.merge(latency);
        ttfe.merge(firstEvent);
        overhead.merge(gm.overhead.snapshot());
        usage.requests += gt.requests;
        usage.connectionSeconds += gt.connectionSeconds;
        usage.executionSeconds += gt.executionSeconds;
        r.groups.push_back(std::move(group));
    }
    r.setLatency(all);
    r.overhead = metrics::PercentileSummary::from(overhead);
    r.overheadAllowanceMs = overheadAllowanceMs(m_v);
    r.error.percentiles = metrics::PercentileSummary::from(error);
    r.error.minMs = double(error.minUs()) / 1000.0;
    r.timeToFirstEvent = metrics::PercentileSummary::from(ttfe);
}

// A server's UDP port is shared by every UDP link to it: what it dropped as not QUIC is
// counted on the first of them.
metrics::LinkResult::DatagramDrops Collector::datagramDrops(const link::Counters &from, const link::Counters &to,
                                                            const TopologyPlan::Link &l, std::vector<bool> &garbageCounted) const
{
    metrics::LinkResult::DatagramDrops d;
    d.loss = to.datagramsLost - from.datagramsLost;
    d.queueOrDown = (to.datagramsDropped - to.datagramsLost) - (from.datagramsDropped - from.datagramsLost);
    const std::size_t n = std::size_t(l.target);
    if (n < garbageCounted.size() && !garbageCounted[n]) {
        garbageCounted[n] = true;
        d.garbage = std::uint64_t(std::max<qint64>(m_atEnd->quicGarbage[n] - m_atStart.quicGarbage[n], 0));
    }
    return d;
}

// Counted from the start of the run, not of the measured window: a handshake fails when a
// stream opens, mostly before the window begins.
std::uint64_t Collector::tlsFailures(const link::Counters &atEnd, std::size_t link, metrics::VariantResult &r) const
{
    if (atEnd.tlsHandshakeFailures > 0)
        r.warnings.append(QStringLiteral("link %1: %2 TLS handshake(s) failed; the first: %3")
                              .arg(m_plan.links[link].name)
                              .arg(atEnd.tlsHandshakeFailures)
                              .arg(m_live.linkTlsFailure(link)));
    return atEnd.tlsHandshakeFailures;
}

void Collector::finaliseLinks(const std::vector<StreamRecorder::GroupTotals> &totals, metrics::VariantResult &r) const
{
    std::vector<bool> garbageCounted(m_plan.nodes.size(), false);
    for (std::size_t i = 0; i < m_plan.links.size(); ++i) {
        const TopologyPlan::Link &l = m_plan.links[i];
        const link::Counters &from = m_atStart.links[i];
        const link::Counters &to = m_atEnd->links[i];
        auto reaps = [](const link::Counters &c) {
            return c.reaped(link::ReapCause::IdleTimeout) + c.reaped(link::ReapCause::MaxDuration);
        };
        metrics::LinkResult lr;
        lr.name = l.name;
        lr.from = l.from;
        lr.to = l.to;
        lr.bytesDown = to.downstream.bytes - from.downstream.bytes;
        lr.bytesUp = to.upstream.bytes - from.upstream.bytes;
        lr.segmentsDown = to.downstream.segments - from.downstream.segments;
        lr.segmentsUp = to.upstream.segments - from.upstream.segments;
        lr.connections = to.connectionsTotal - from.connectionsTotal;
        lr.reaps = reaps(to) - reaps(from);
        if (l.clientSide())
            lr.heartbeatBytes = totals[std::size_t(l.group)].heartbeatBytes;
        if (to.datagrams)
            lr.datagramsDropped = datagramDrops(from, to, l, garbageCounted);
        else if (l.settings.realTls)
            lr.tlsHandshakeFailures = tlsFailures(to, i, r);
        r.bytes.total += lr.totalBytes();
        r.links.push_back(lr);
    }
}

} // namespace edgesse::sim
