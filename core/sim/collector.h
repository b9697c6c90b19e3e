#pragma once

#include "core/metrics/latencyhistogram.h"
#include "core/metrics/runresult.h"
#include "core/metrics/timeseries.h"
#include "core/scenario/scenario.h"
#include "core/sim/cost.h"
#include "core/sim/livesnapshot.h"
#include "core/sim/livetopology.h"
#include "core/sim/routingseries.h"
#include "core/sim/topologyplan.h"

#include <chrono>
#include <optional>
#include <vector>

namespace edgesse::sim {

// Reads a live topology's figures: a time-series row and a live snapshot every sample, the
// variant's result at the end. Used from the run's controlling thread only; the variant,
// the plan and the topology outlive it.
class Collector final
{
public:
    using Clock = std::chrono::steady_clock;
    static constexpr std::chrono::milliseconds kSampleInterval{100};

    Collector(const scenario::Variant &variant, const TopologyPlan &plan, LiveTopology &live);

    // Warm-up is over: events from the publisher's next one on are measured, and link and
    // server counters are read at the window's start.
    void startMeasuring();
    // The measured window is over: counters are read at its end.
    void endMeasuring();

    struct Sample {
        LiveSnapshot live; // fraction and elapsed time left to the caller
        metrics::LatencyHistogram latency; // every latency measured so far
    };
    // One row of the time series at `atSeconds` since the measurement started.
    Sample sample(double atSeconds);
    const metrics::TimeSeries &series() const { return m_series; }

    // The variant's figures over [measureStart, measureEnd]; call after the drain, while
    // the topology is still up. `keepStreamRows`: per-stream rows for streams.csv.
    metrics::VariantResult finalise(Clock::time_point measureStart, Clock::time_point measureEnd, bool keepStreamRows);

private:
    void addChannels();
    void sampleLatency(std::vector<double> &row, metrics::LatencyHistogram &latency);
    void sampleStreams(std::vector<double> &row, LiveSnapshot &live);
    void sampleLinks(std::vector<double> &row, LiveSnapshot &live);
    void fillLiveView(double atSeconds, LiveSnapshot &live) const;
    void finaliseGroups(const std::vector<StreamRecorder::GroupTotals> &totals, metrics::VariantResult &r,
                        Usage &usage) const;
    void finaliseLinks(const std::vector<StreamRecorder::GroupTotals> &totals, metrics::VariantResult &r) const;
    metrics::LinkResult::DatagramDrops datagramDrops(const link::Counters &from, const link::Counters &to,
                                                     const TopologyPlan::Link &l, std::vector<bool> &garbageCounted) const;
    std::uint64_t tlsFailures(const link::Counters &atEnd, std::size_t link, metrics::VariantResult &r) const;
    void finaliseServers(metrics::VariantResult &r) const;

    const scenario::Variant &m_v;
    const TopologyPlan &m_plan;
    LiveTopology &m_live;
    metrics::TimeSeries m_series;
    metrics::LatencyHistogram m_lastLatency;
    std::uint64_t m_lastPublished = 0;
    std::uint64_t m_lastReconnects = 0;
    std::uint64_t m_lastDelivered = 0;
    std::vector<std::uint64_t> m_linkLastBytes;    // by plan link
    std::vector<std::uint64_t> m_nodeMaxConnections; // by plan node: the most accepted open at once, in the window
    bool m_measuring = false;
    RoutingSeries m_routing; // routed nodes' channels
    struct Counters {
        std::vector<link::Counters> links;  // by plan link
        std::vector<qint64> rejected;       // by plan node: 503s answered so far
        std::vector<qint64> quicGarbage;    // by plan node: datagrams its UDP port dropped as not QUIC
    };
    Counters read() const;
    Counters m_atStart;
    std::optional<Counters> m_atEnd;
};

} // namespace edgesse::sim
