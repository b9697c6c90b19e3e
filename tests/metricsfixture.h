#pragma once

// A RunResult shaped like a real two-variant run (central vs edge), built through the
// same recorders, trackers and series the engine uses. Shared by the metrics, results
// and chart tests.

#include "core/metrics/latencyhistogram.h"
#include "core/metrics/runresult.h"
#include "core/metrics/streamtracker.h"

#include <QJsonArray>

#include <cmath>
#include <random>

namespace edgesse::testing {

struct VariantShape {
    QString name;
    double pathMs;      // configured one-way latency of the path
    double jitterMs;
    double handshakeMs; // time to first event
    bool edge;
    int reapEverySeconds; // 0: no idle reaps
};

inline metrics::VariantResult makeVariant(const VariantShape &shape, std::uint32_t seed, int clients = 40,
                                          int seconds = 30)
{
    using namespace metrics;
    std::mt19937_64 random(seed);
    std::normal_distribution<double> jitter(0, shape.jitterMs);
    std::exponential_distribution<double> spike(1.0 / 4.0);
    VariantResult v;
    v.name = shape.name;
    v.durationS = seconds;
    v.resolved = QJsonObject{{QStringLiteral("placement"), shape.edge ? QStringLiteral("edge") : QStringLiteral("central")},
                             {QStringLiteral("protocol"), QStringLiteral("http2")},
                             {QStringLiteral("clients"), clients}};

    TimeSeries &series = v.timeSeries;
    const int p50 = series.addChannel(series::kLatencyP50, QStringLiteral("ms"), Fold::Mean);
    const int p90 = series.addChannel(series::kLatencyP90, QStringLiteral("ms"), Fold::Max);
    const int p99 = series.addChannel(series::kLatencyP99, QStringLiteral("ms"), Fold::Max);
    const int eps = series.addChannel(series::kEventsPerSecond, QStringLiteral("1/s"), Fold::Mean);
    const int origin = series.addChannel(series::connections(QStringLiteral("origin")), {}, Fold::Max);
    const int pop = shape.edge ? series.addChannel(series::connections(QStringLiteral("pop-fra")), {}, Fold::Max) : -1;
    const QString accessLink = shape.edge ? QStringLiteral("berlin->pop-fra") : QStringLiteral("berlin->origin");
    const int bps = series.addChannel(series::linkBytesPerSecond(accessLink), QStringLiteral("B/s"), Fold::Mean);

    LatencyRecorder latency;
    LatencyHistogram overhead;
    LatencyHistogram ttfe;
    LatencyHistogram previous;
    std::vector<StreamTracker> trackers(std::size_t(clients), StreamTracker(0));
    const int rate = 20;
    const int windows = seconds * 10;
    std::uint64_t seq = 0;
    for (int w = 0; w < windows; ++w) {
        for (int e = 0; e < rate / 10; ++e, ++seq) {
            for (int c = 0; c < clients; ++c) {
                const bool reaped = shape.reapEverySeconds && seq % std::uint64_t(shape.reapEverySeconds * rate) == 5
                                    && c % 4 == 0;
                if (reaped) {
                    trackers[std::size_t(c)].disconnected(DisconnectCause::IdleTimeout);
                    continue; // this event falls into the reconnect gap
                }
                const double extra = (random() % 200 == 0) ? spike(random) * 5 : 0;
                const double ms = std::max(0.05, shape.pathMs + jitter(random) + extra);
                latency.record(std::uint64_t(ms * 1000));
                overhead.record(std::uint64_t(std::max(0.0, ms - shape.pathMs) * 1000 * 0.05) + 30);
                trackers[std::size_t(c)].received(seq);
            }
        }
        const LatencyHistogram now = latency.snapshot();
        const LatencyHistogram window = now.since(previous);
        previous = now;
        std::vector<double> row = series.emptyRow();
        row[std::size_t(p50)] = window.percentileMs(50);
        row[std::size_t(p90)] = window.percentileMs(90);
        row[std::size_t(p99)] = window.percentileMs(99);
        row[std::size_t(eps)] = double(window.count()) * 10;
        const double ramp = std::min(1.0, (w + 1) / 8.0);
        row[std::size_t(origin)] = shape.edge ? 1 : std::round(clients * ramp);
        if (pop >= 0)
            row[std::size_t(pop)] = std::round(clients * ramp);
        row[std::size_t(bps)] = double(window.count()) * 10 * 300;
        series.append(row);
    }
    for (int c = 0; c < clients; ++c)
        ttfe.record(std::uint64_t((shape.handshakeMs + std::abs(jitter(random))) * 1000));

    v.setLatency(latency.snapshot());
    v.overhead = PercentileSummary::from(overhead);
    v.timeToFirstEvent = PercentileSummary::from(ttfe);
    v.events.published = seq;
    v.streams.total = std::uint64_t(clients);
    GroupResult group;
    group.name = QStringLiteral("berlin");
    for (int c = 0; c < clients; ++c) {
        const StreamAccount account = trackers[std::size_t(c)].account(seq - 1);
        v.events.add(account);
        v.streams.add(account);
        group.events.add(account);
        group.streams.add(account);
        StreamSummary s;
        s.group = group.name;
        s.client = c;
        s.node = shape.edge ? QStringLiteral("pop-fra") : QStringLiteral("origin");
        s.account = account;
        s.timeToFirstEventMs = shape.handshakeMs;
        s.latencyP50Ms = v.latency.p50;
        s.latencyP99Ms = v.latency.p99;
        s.latencyMaxMs = v.latency.max;
        v.streamSummaries.push_back(s);
    }
    group.events.published = seq;
    group.streams.total = std::uint64_t(clients);
    group.latency = v.latency;
    group.timeToFirstEvent = v.timeToFirstEvent;
    v.groups.push_back(group);
    v.connections.originMax = shape.edge ? 1 : std::uint64_t(clients);
    v.connections.byNodeMax[QStringLiteral("origin")] = v.connections.originMax;
    if (shape.edge)
        v.connections.byNodeMax[QStringLiteral("pop-fra")] = std::uint64_t(clients);
    const std::uint64_t eventBytes = v.events.delivered * 300;
    v.links.push_back({accessLink, QStringLiteral("berlin"), shape.edge ? QStringLiteral("pop-fra") : QStringLiteral("origin"),
                       eventBytes + std::uint64_t(clients) * std::uint64_t(seconds) / 5 * 60, std::uint64_t(clients) * 420, std::uint64_t(clients) * std::uint64_t(seconds) / 5 * 60,
                       std::uint64_t(clients) + v.streams.reconnects, v.streams.reconnects, std::nullopt, 0, 0});
    if (shape.edge)
        v.links.push_back({QStringLiteral("pop-fra->origin"), QStringLiteral("pop-fra"), QStringLiteral("origin"),
                           seq * 300, 420, std::uint64_t(seconds / 15 * 3), 1, 0, std::nullopt, 0, 0});
    for (const LinkResult &l : v.links) {
        v.bytes.total += l.totalBytes();
        v.bytes.heartbeat += l.heartbeatBytes;
    }
    v.requests = std::uint64_t(clients) + v.streams.reconnects;
    CostEstimate cost;
    cost.run = 0.0123;
    cost.perHour = 1.476;
    cost.breakdown = {{QStringLiteral("egress"), 0.01}, {QStringLiteral("requests"), 0.0023}};
    v.cost = cost;
    v.checkTrust();
    return v;
}

inline metrics::RunResult makeRunResult(int clients = 40, int seconds = 30)
{
    metrics::RunResult result;
    result.toolVersion = QStringLiteral("0.1.0");
    result.scenarioFile = QStringLiteral("edge-vs-central.yaml");
    result.scenarioName = QStringLiteral("Edge vs central — EU audience");
    result.seed = 42;
    result.startedAt = QStringLiteral("2026-01-01T12:00:00Z");
    result.variants.push_back(makeVariant({QStringLiteral("central"), 48, 4, 290, false, 10}, 1, clients, seconds));
    result.variants.push_back(makeVariant({QStringLiteral("edge"), 8, 2, 50, true, 0}, 2, clients, seconds));
    return result;
}

} // namespace edgesse::testing
