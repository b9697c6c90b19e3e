#pragma once

#include "core/metrics/latencyhistogram.h"
#include "core/metrics/streamtracker.h"
#include "core/metrics/timeseries.h"

#include <QJsonObject>
#include <QList>
#include <QPointF>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace edgesse::metrics {

// The figures of a run as plain values, named after results.json (see the README,
// "Results"). Latencies are in milliseconds (double, µs resolution).

struct LatencySummary {          // "latency_ms"
    std::uint64_t count = 0;
    double mean = 0;
    double p50 = 0;
    double p90 = 0;
    double p99 = 0;
    double p999 = 0;
    double max = 0;
    static LatencySummary from(const LatencyHistogram &histogram);
};

struct PercentileSummary {       // "overhead_ms", "time_to_first_event_ms"
    std::uint64_t count = 0;     // samples; 0: nothing was measured (polling has no overhead)
    double p50 = 0;
    double p99 = 0;
    double max = 0;
    static PercentileSummary from(const LatencyHistogram &histogram);
};

// "error_ms" {count, min, p50, p99, max, unmatched}: the simulator's own error, measured per delivered event: its measured latency
// minus what the model drew for its bytes on every hop (propagation, jitter, serialisation,
// loss recovery, handshakes charged to data), in modelled time. `unmatched`: delivered
// events whose bytes no link could place (TLS, a real browser, polling, a per-client edge).
struct ErrorSummary {
    PercentileSummary percentiles;
    double minMs = 0;            // "min": the least error of any event (the machine at its quickest)
    std::uint64_t unmatched = 0;
    // "trusted": error p99 ≤ the tolerance; empty (null) when nothing was measured.
    std::optional<bool> trusted;
    void judge(double toleranceMs);
};

struct EventCounts {             // "events"
    std::uint64_t published = 0;
    std::uint64_t expected = 0;
    std::uint64_t delivered = 0;
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::map<QString, std::uint64_t> lostByCause; // "lost_by_cause": lossCauseName → count
    // expected/delivered/lost/duplicated and lost_by_cause from summed stream accounts.
    void add(const StreamAccount &account);
};

struct StreamCounts {            // "streams"
    std::uint64_t total = 0;
    std::uint64_t starved = 0;    // streams that waited for a connection (HTTP/1.1's six)
    std::uint64_t neverServed = 0; // never got a response: starved or failing the whole run
    std::uint64_t rejected = 0;    // of those, turned away at a connection cap (503)
    std::uint64_t reconnects = 0;
    std::map<QString, std::uint64_t> reconnectsByCause; // disconnectCauseName → count
    void add(const StreamAccount &account); // reconnects and reconnects_by_cause
};

struct ConnectionCounts {        // "connections"
    std::uint64_t originMax = 0;                  // most connections open at the origin at once
    std::map<QString, std::uint64_t> byNodeMax;   // node name → most accepted connections open at once
    std::map<QString, std::uint64_t> rejectedByNode; // node name → connections answered 503 (in the window)
};

struct ByteCounts {              // "bytes"
    std::uint64_t total = 0;      // over every link, both directions
    std::uint64_t heartbeat = 0;  // of which heartbeat comments
};

struct PublisherRate {           // "publisher"
    double askedPerSecond = 0;    // "rate_asked_per_s": the scenario's rate
    double achievedPerSecond = 0; // "rate_achieved_per_s": published in the measured period / its length
    std::uint64_t fellBehind = 0; // "fell_behind": times it fell more than 100 ms behind its schedule
};

struct CostEstimate {            // "cost" (null without a pricing: block)
    QString currency = QStringLiteral("USD");
    double run = 0;               // for the run's duration
    double perHour = 0;           // the run's rate extrapolated to an hour
    std::map<QString, double> breakdown; // "requests", "egress", "connection_hours", "gb_seconds"
};

struct LinkResult {              // "links" entry
    QString name;                 // "berlin->pop-fra"
    QString from;
    QString to;
    std::uint64_t bytesDown = 0;  // towards the clients
    std::uint64_t bytesUp = 0;    // towards the origin
    std::uint64_t heartbeatBytes = 0;
    std::uint64_t connections = 0;
    std::uint64_t reaps = 0;      // connections closed by the gateway (idle or max duration)
    // "datagrams_dropped" (UDP links only; null on TCP links): by the link's loss model, by its
    // full queue or an outage, and by the server's UDP port as not QUIC ("garbage": not QUIC,
    // an unknown connection's packet, an Initial that does not decrypt, a handshake flood).
    struct DatagramDrops {
        std::uint64_t loss = 0;
        std::uint64_t queueOrDown = 0;
        std::uint64_t garbage = 0;
        std::uint64_t total() const { return loss + queueOrDown + garbage; }
        friend bool operator==(const DatagramDrops &, const DatagramDrops &) = default;
    };
    std::optional<DatagramDrops> datagramsDropped;
    // "tls_handshake_failures" (null unless the link is `tls: true` and TCP): TLS handshakes
    // that failed across it from the start of the run to the end of its measured window
    // (core/link/tlshandshakewatch.h); the first one's cause is among the warnings.
    std::optional<std::uint64_t> tlsHandshakeFailures;
    std::uint64_t segmentsDown = 0; // "segments" {down, up}: TCP segments (datagrams on a UDP link) carried
    std::uint64_t segmentsUp = 0;
    std::uint64_t totalBytes() const { return bytesDown + bytesUp; }
};

struct GroupResult {             // "groups" entry: one client population
    QString name;
    QString protocol;              // "protocol": http1, http2, http3, or the polling kind
    // "stalled_stream_s": seconds its streams waited behind a loss another stream of the same
    // browser met (head-of-line blocking; core/sim/stallmeter.h)
    double stalledStreamSeconds = 0;
    LatencySummary latency;
    PercentileSummary timeToFirstEvent;
    EventCounts events;
    StreamCounts streams;
    ErrorSummary error;            // "error_ms", "trusted"
};

// One row of streams.csv (not in results.json: thousands of rows).
struct StreamSummary {
    QString group;
    int client = 0;               // browser index within the group
    int stream = 0;               // stream index within the browser
    QString node;                 // the node it is served by
    StreamAccount account;
    bool starved = false;
    double timeToFirstEventMs = -1; // -1: never received an event
    double reconnectMs = -1;        // its first reconnect, from the end of its stream as its client saw
                                    // it to the next response; -1: none
    double latencyP50Ms = 0;
    double latencyP99Ms = 0;
    double latencyMaxMs = 0;
};

// One row of samples.csv (optional: only when the engine keeps per-event samples).
struct EventSample {
    QString group;
    int client = 0;
    int stream = 0;
    std::uint64_t seq = 0;
    std::int64_t publishedUs = 0; // since the variant's start
    std::int64_t receivedUs = 0;
    std::int64_t latencyUs() const { return receivedUs - publishedUs; }
};

// One conformance check on one of the user's own servers ("conformance" in results.json).
struct ConformanceNote {
    QString node;
    QString check; // content-type, cache-control, buffering, heartbeat, retry, last-event-id, cap
    bool ok = true;
    QString note;  // a short sentence
    friend bool operator==(const ConformanceNote &, const ConformanceNote &) = default;
};

struct VariantResult {
    QString name;
    QJsonObject resolved;         // the fully resolved variant, filled by the engine
    double durationS = 0;         // measured period (after warm-up), modelled time
    double timeScale = 1;         // "time_scale": the run went this many times slower than modelled
    double wallS = 0;             // "wall_s": the measured period's wall-clock length
    // "time_scale_note": how `--time-scale auto` chose time_scale (empty when it was given)
    QString timeScaleNote;
    LatencySummary latency;                   // "latency_ms"
    // "overhead_ms": measured minus configured latency (jitter, loss and the machine together);
    // kept for readers of older files. The trust check is the error's (below).
    PercentileSummary overhead;
    // "overhead_allowance_ms": what older versions allowed on top of 1 ms of overhead (the
    // paths' jitter and loss bound); read and written unchanged, no longer judged.
    double overheadAllowanceMs = 0;
    ErrorSummary error;                       // "error_ms", "trusted": every group together
    double toleranceMs = 1.0;                 // "tolerance_ms": the error p99 a group may have
    PercentileSummary timeToFirstEvent;       // "time_to_first_event_ms"
    EventCounts events;
    StreamCounts streams;
    ConnectionCounts connections;
    ByteCounts bytes;
    std::uint64_t requests = 0;   // HTTP requests made (connects, reconnects, polls)
    PublisherRate publisher;
    // "server_closes_by_cause": connections and streams the servers ended on their own, over
    // the whole run: slow_consumer, request_timeout, header_timeout, idle_timeout.
    std::map<QString, std::uint64_t> serverClosesByCause;
    std::optional<CostEstimate> cost;
    double stalledStreamSeconds = 0; // "stalled_stream_s": every group's together
    std::vector<GroupResult> groups;
    std::vector<LinkResult> links;
    TimeSeries timeSeries;        // "time_series"
    QList<QPointF> latencyCdf;    // "latency_cdf": (ms, fraction ≤)
    QStringList warnings;         // "warnings": e.g. overhead above 1 ms
    std::vector<ConformanceNote> conformance; // "conformance": the external servers' checks
    std::vector<StreamSummary> streamSummaries; // streams.csv only
    std::vector<EventSample> samples;           // samples.csv only

    // Sets latency, latencyCdf from a histogram (the usual path from the recorders).
    void setLatency(const LatencyHistogram &histogram);
    // The trust check: a group is trusted when its error p99 is within the tolerance; the
    // variant when no group is untrusted and one was judged.
    static constexpr double kDefaultToleranceMs = 1.0;
    bool untrusted() const { return error.trusted.has_value() && !*error.trusted; }
    // Judges every group and the variant against toleranceMs, replacing any earlier
    // verdict, and adds one warning per untrusted group (once).
    void checkTrust();
    // Adds a warning when the publisher fell behind its schedule, and one when servers
    // dropped slow consumers (each once).
    void checkServerLoad();
};

struct RunResult {
    QString toolName = QStringLiteral("edgesse");
    QString toolVersion;
    QString scenarioFile;
    QString scenarioName;
    std::uint64_t seed = 0;
    QString startedAt;            // ISO 8601 UTC
    // "scenario.question", "scenario.text", "scenario.variants": what the scenario asks, the
    // text it was run from, and every variant it has in file order (charts give a variant a
    // colour by its place there, so it keeps that colour in every run). Empty when unknown.
    QString scenarioQuestion;
    QString scenarioText;
    QStringList scenarioVariants;
    std::vector<VariantResult> variants;

    const VariantResult *variant(const QString &name) const;

    QJsonObject toJson() const;
    // Reads what toJson() wrote (and any results.json of this major version). On a
    // malformed document returns std::nullopt and a message naming what is wrong.
    static std::optional<RunResult> fromJson(const QJsonObject &json, QString *error = nullptr);
    static std::optional<RunResult> fromJsonBytes(const QByteArray &bytes, QString *error = nullptr);
};

} // namespace edgesse::metrics
