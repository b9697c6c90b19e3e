#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QPair>
#include <QString>
#include <QStringList>

#include <chrono>
#include <cstdint>
#include <optional>

// The scenario model: plain structs, fully resolved. The loader (load / loadFromText)
// parses and validates a YAML file and returns one self-contained Variant per variant
// (sweeps expanded), so nothing downstream looks at YAML or applies defaults.
namespace edgesse::scenario {

using std::chrono::microseconds;

// One problem found in a scenario file, located where it was written.
struct Diagnostic {
    QString file;
    int line = 0;   // 1-based; 0 when the problem has no place in the text (e.g. unreadable file)
    int column = 0; // 1-based
    QString message;

    // "FILE:LINE:COL: error: MESSAGE", the form editors and compilers use.
    QString toString() const;
    friend bool operator==(const Diagnostic &, const Diagnostic &) = default;
};

enum class NodeKind { Origin, Pop };
// How an edge PoP subscribes upstream: one shared stream per PoP fanned out to its
// clients, or one upstream stream per client stream (an edge function per request).
enum class UpstreamMode { Shared, PerClient };

// A server the user brings: a command EdgeSSE starts (and stops) or a URL already serving.
// Text may hold placeholders ({port}, {upstream}, {dir}, ...; see externalPlaceholders()),
// filled in when the run starts.
struct ExternalServer {
    QString command; // a shell command line; empty when the server is already running at `url`
    QString url;     // its event stream; empty = http://127.0.0.1:{port}/events
    QList<QPair<QString, QString>> files; // written into {dir} (name, text) before the command starts
    QList<QPair<QString, QString>> vars;  // placeholders of the scenario's own (name, value)
    microseconds readyTimeout{std::chrono::seconds(10)}; // to start listening
    microseconds stopGrace{std::chrono::seconds(2)};     // between SIGTERM and SIGKILL
    QString workingDirectory; // the command's; by default the scenario file's folder
    friend bool operator==(const ExternalServer &, const ExternalServer &) = default;
};

// Placeholders every external server's text may use; {upstream} and its parts only on a PoP.
const QStringList &externalPlaceholders();
// The names of the {placeholders} in `text`, in order (a name is [a-z_][a-z0-9_]*; "{{" is a
// literal brace, so is a brace not followed by a name and "}").
QStringList placeholderNames(const QString &text);
// `text` with every {name} in `values` replaced and "{{" turned into "{"; other names stay.
QString fillPlaceholders(const QString &text, const QHash<QString, QString> &values);

// How a node's balancer picks an instance for a new connection (core/routing).
enum class BalancePolicy { RoundRobin, LeastConnections, Random, Hash };
// What an autoscaled node does with a connection that finds every instance at its cap while
// a new one is cold-starting: hold it until the instance is up, or answer 503 + Retry-After.
enum class WhenFull { Wait, Reject };
enum class NodeFaultKind { Crash, Drain };

// Edge-function style scaling: `min` instances from the start; a new one (up to `max`) is
// started when every instance is at max_connections and serves after `coldStart`; one that
// has held no connection for `scaleInAfter` is stopped (never below `min`).
struct Autoscale {
    int min = 1;
    int max = 1;
    microseconds coldStart{0};
    microseconds scaleInAfter{std::chrono::seconds(60)};
    WhenFull whenFull = WhenFull::Wait;
    friend bool operator==(const Autoscale &, const Autoscale &) = default;
};

// A scheduled fault on a node (from the start of the run, warm-up included): one instance
// or all of them crash (connections reset, new ones refused) or drain (no new connections;
// open streams are closed after `grace`). With `downFor` the instance comes back after that
// long as a fresh process (empty replay buffer, new upstream).
struct NodeFault {
    microseconds at{0};
    NodeFaultKind kind = NodeFaultKind::Crash;
    int instance = -1; // -1: every instance (the whole node)
    std::optional<microseconds> downFor;
    microseconds grace{0};
    friend bool operator==(const NodeFault &, const NodeFault &) = default;
};

struct Node {
    QString name;
    NodeKind kind = NodeKind::Origin;
    QString region;
    qint64 maxConnections = 0; // 0 = no cap; beyond it the server answers 503
    std::optional<microseconds> maxStreamDuration; // the server ends a stream after this long
    UpstreamMode upstream = UpstreamMode::Shared;  // meaningful for a PoP only
    std::optional<ExternalServer> external;         // the user's own server instead of EdgeSSE's
    // Routing (core/routing): `instances` servers behind a balancer on the node's port, each
    // with its own connections, upstream and replay buffer; max_connections is per instance.
    int instances = 1;
    BalancePolicy balance = BalancePolicy::RoundRobin;
    std::optional<Autoscale> autoscale{};
    QList<NodeFault> faults{};
    // A PoP's clients move to the first of these that is up once this PoP has failed and
    // `reresolution` (DNS TTL, anycast convergence) has passed.
    QStringList fallback{};
    microseconds reresolution{std::chrono::seconds(5)};
    // The balancer admits at most `acceptRate` new requests a second, `acceptBurst` at once
    // after a quiet spell; beyond it answers 503 + Retry-After. 0 = no admission limit.
    double acceptRate = 0;
    double acceptBurst = 1;
    // Behind a balancer: several instances, autoscaling, node faults or an accept rate.
    bool routed() const { return instances > 1 || autoscale.has_value() || !faults.isEmpty() || acceptRate > 0; }
    friend bool operator==(const Node &, const Node &) = default;
};

enum class Placement { Central, Edge };
enum class Protocol { Http1, Http2, Http3 }; // http3: the browsers speak HTTP/3 over QUIC (UDP)
// How protocol http3's browsers come to HTTP/3: from their first connection (as Chromium with
// --origin-to-force-quic-on), or by Alt-Svc: HTTP/2 first, HTTP/3 for later connections.
enum class Discovery { Forced, AltSvc };
enum class Delivery { Sse, Poll, LongPoll };
// The browser whose EventSource and network stack a population follows (sse::BrowserProfile).
enum class BrowserKind { Chromium, Firefox, Safari };
// The page's client: the browser's own EventSource, or a fetch() loop that parses the stream
// and sends Last-Event-ID itself (what fetch-event-source style libraries do).
enum class ClientApi { EventSource, Fetch };
enum class Backoff { None, Exponential };
// How a wait is drawn below its backoff bound: none (the bound), full (uniform in [0, bound]),
// equal (bound/2 + uniform in [0, bound/2]).
enum class ReconnectJitter { None, Full, Equal };

// An application's reconnect policy on top of the browser's (which is none: exactly `retry`).
// Attempt n after the last open stream waits min(max, base × 2^n), then jitter.
struct ReconnectPolicy {
    Backoff backoff = Backoff::Exponential;
    std::optional<microseconds> base; // nullopt: the stream's reconnection time (`retry`)
    microseconds max{std::chrono::seconds(30)};
    ReconnectJitter jitter = ReconnectJitter::None;
    friend bool operator==(const ReconnectPolicy &, const ReconnectPolicy &) = default;
};

// A population of browsers near one node.
struct ClientGroup {
    QString name;
    qint64 count = 0;  // browsers
    QString near;      // the node these browsers are closest to (a PoP, or an origin)
    int streams = 1;   // EventSources (or pollers) each browser opens
    Delivery delivery = Delivery::Sse;
    microseconds pollInterval{std::chrono::seconds(1)};     // Poll: time between requests
    microseconds longPollTimeout{std::chrono::seconds(30)}; // LongPoll: server holds a request this long
    std::optional<Protocol> protocol; // overrides the variant's protocol for this group
    int connectionsPerOrigin = 6;     // browser limit for HTTP/1.1
    BrowserKind browser = BrowserKind::Chromium;
    ClientApi client = ClientApi::EventSource;
    std::optional<ReconnectPolicy> reconnect{}; // nullopt: the browser's own (exactly `retry`)
    // Real headless browsers instead of simulated ones, on the test page through the link.
    std::optional<BrowserKind> realBrowser{};
    // TLS 1.3 early data on resumed sessions (0-RTT); nullopt: the browser profile's default.
    std::optional<bool> earlyData{};
    std::optional<Discovery> discovery{}; // overrides the variant's discovery for this group
    friend bool operator==(const ClientGroup &, const ClientGroup &) = default;
};

enum class JitterDistribution { Uniform, Normal, Pareto };
// What a lost segment costs: as the Linux sender recovers it (RACK when later segments
// follow, else the tail-loss probe, else the RTO), or fixed: one RTT (fast retransmit) or a
// retransmission timeout.
enum class LossRecovery { Linux, FastRetransmit, Timeout };
// Which segments are lost: each independently, or in bursts (Gilbert-Elliott).
enum class LossModel { Independent, Burst };

// A gateway in front of a link's far end (load balancer, CDN, edge runtime). Preset values
// come from gatewayPresets(); the scenario may override each field.
struct Gateway {
    QString preset; // "custom" when the scenario gave only fields
    std::optional<microseconds> idleTimeout; // closes a connection that carried no byte this long
    std::optional<microseconds> maxDuration; // closes a connection after this long regardless
    friend bool operator==(const Gateway &, const Gateway &) = default;
};

struct GatewayPreset {
    QString name;
    std::optional<microseconds> idleTimeout;
    std::optional<microseconds> maxDuration;
    QString note;
};
const QList<GatewayPreset> &gatewayPresets();
const GatewayPreset *findGatewayPreset(const QString &name);

// The link goes down at `at` (from the start of the run, warm-up included) and stays down
// for `downFor`: established connections are cut and new ones refused.
struct LinkFault {
    microseconds at{0};
    microseconds downFor{0};
    friend bool operator==(const LinkFault &, const LinkFault &) = default;
};

// A bidirectional link; each direction gets the same characteristics.
struct Link {
    QString a; // node or client-group names, as written in `between`
    QString b;
    microseconds latency{0}; // one way; RTT = 2 × latency
    microseconds jitter{0};
    JitterDistribution jitterDistribution = JitterDistribution::Uniform;
    qint64 bandwidthBitsPerSecond = 0; // 0 = unlimited
    double loss = 0.0;                 // probability a segment is lost, [0, 1)
    LossModel lossModel = LossModel::Independent;
    double lossBurst = 1; // LossModel::Burst: mean run of lost segments
    LossRecovery lossRecovery = LossRecovery::Linux;
    microseconds rto{std::chrono::milliseconds(200)}; // the RTO's floor (Linux) or the timeout; ≥ 200 ms
    bool tls = false; // handshake costs one RTT more
    std::optional<Gateway> gateway;
    QList<LinkFault> faults;

    bool connects(const QString &x, const QString &y) const { return (a == x && b == y) || (a == y && b == x); }
    microseconds rtt() const { return 2 * latency; }
    // Connection set-up delay the link implies: 1 RTT for TCP, one more for TLS.
    microseconds handshake() const { return (tls ? 2 : 1) * rtt(); }
    // Extra delay a lost segment costs under the link's loss recovery.
    microseconds lossPenalty() const;
    friend bool operator==(const Link &, const Link &) = default;
};

enum class PublishPattern { Constant, Poisson, Bursty };

struct Publisher {
    QString at;        // the origin node the publisher is attached to
    double rate = 1.0; // events per second (mean)
    PublishPattern pattern = PublishPattern::Constant;
    int burstSize = 1; // Bursty: events per burst; bursts come every burstPeriod()
    qint64 payloadBytes = 256;
    // An external origin's publish endpoint: each event is a POST of `body` to `post`
    // (placeholders {seq}, {payload}, {port}), and its latency counts from the POST.
    QString post;
    QString body = QStringLiteral("{payload}");

    microseconds burstPeriod() const;
    friend bool operator==(const Publisher &, const Publisher &) = default;
};

struct SseSettings {
    std::optional<microseconds> heartbeat; // comment lines on an idle stream; nullopt = off
    microseconds retry{std::chrono::seconds(3)}; // the `retry:` field sent to clients
    int replay = 1000; // events kept for Last-Event-ID; 0 = no replay
    int maxConcurrentStreams = 100; // HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS of the servers
    friend bool operator==(const SseSettings &, const SseSettings &) = default;
};

// Optional price list, to turn a run's counters into a cost.
struct Pricing {
    QString currency = QStringLiteral("USD");
    double perMillionRequests = 0;
    double perGbEgress = 0;
    double perConnectionHour = 0;
    double perGbSecond = 0;                   // compute billed by memory × duration
    qint64 memoryBytes = 128 * 1024 * 1024;   // memory of one function instance (for GB-seconds)
    double perInstanceHour = 0;               // instance time of routed nodes (core/routing)
    double perInstanceGbSecond = 0;           // the same instance time billed by `memoryBytes` each
    friend bool operator==(const Pricing &, const Pricing &) = default;
};

// One concrete, self-contained configuration to run.
struct Variant {
    QString name;
    Placement placement = Placement::Central;
    Protocol protocol = Protocol::Http1;
    Discovery discovery = Discovery::Forced;
    QList<Node> nodes;
    QList<ClientGroup> clients;
    QList<Link> links;
    Publisher publisher;
    SseSettings sse;
    std::optional<Pricing> pricing;
    microseconds duration{std::chrono::seconds(30)}; // measured part, after warm-up
    microseconds warmup{std::chrono::seconds(2)};
    // Browsers arrive at seeded random times spread uniformly over this; nullopt: over the
    // warm-up. 0: all at once.
    std::optional<microseconds> arrival;
    microseconds arrivalSpread() const { return arrival.value_or(warmup); }
    quint64 seed = 1;
    // For a variant generated by a sweep: the swept key paths and the values chosen, as written.
    QList<QPair<QString, QString>> sweepValues;
    // Set by sim::dilated: the engine's own timers (server timeouts, a relay's re-count)
    // stretch by it too. 1 for a variant as loaded.
    double timeScale = 1;

    const Node *node(const QString &name) const;
    const ClientGroup *clientGroup(const QString &name) const;
    const Node *origin() const; // the node the publisher is at
    const Link *linkBetween(const QString &x, const QString &y) const;

    Protocol protocolFor(const ClientGroup &group) const;
    Discovery discoveryFor(const ClientGroup &group) const;
    // Hops a group's streams take under the placement, client side first:
    // central: [group, origin]; edge: [group, pop, origin] (or [group, origin] when the
    // group is near the origin itself). Empty when the group does not exist.
    QStringList path(const ClientGroup &group) const;
    // Links along path(); a missing link is nullptr (validation rejects that).
    QList<const Link *> pathLinks(const ClientGroup &group) const;
    // Configured one-way latency from the publisher to the group (sum over the path).
    microseconds pathLatency(const ClientGroup &group) const;

    // Nodes not under EdgeSSE's clock (external servers): their time cannot be dilated.
    QStringList externalNodes() const;
    bool runsOutsideClock() const { return !externalNodes().isEmpty(); }
    // Why this variant's time cannot be dilated (empty when it can).
    QString timeDilationRefusal() const;

    qint64 totalBrowsers() const;
    qint64 totalStreams() const;
    // Connections the group's browsers open (HTTP/1.1: up to connectionsPerOrigin per
    // browser, one per stream; HTTP/2: one per browser).
    qint64 clientConnections(const ClientGroup &group) const;
    // Every TCP connection of the topology: clients' plus PoPs' upstream connections; without
    // simulated clients (serve) only the PoPs' shared upstreams.
    qint64 connectionsNeeded(bool simulatedClients = true) const;
    // connectionsNeeded() × net::kDescriptorsPerProxiedConnection + net::kDescriptorReserve.
    std::uint64_t descriptorsNeeded(bool simulatedClients = true) const;

    friend bool operator==(const Variant &, const Variant &) = default;
};

struct Scenario {
    QString file; // as given to load(); the fileName of loadFromText()
    QString name;
    QString description;
    QString question; // what the scenario sets out to answer; the comparison opens with it
    quint64 seed = 1;
    QList<Variant> variants; // in file order, sweeps expanded; never empty for a loaded scenario

    const Variant *variant(const QString &name) const;
};

struct LoadResult {
    std::optional<Scenario> scenario; // set exactly when diagnostics is empty
    QList<Diagnostic> diagnostics;    // every problem found, in file order
    bool ok() const { return scenario.has_value(); }
};

// How a scenario will be used, for the checks that depend on it.
struct LoadOptions {
    // The descriptor budget counts the simulated browsers (validate, run) or only what the
    // topology opens itself (serve: its clients are the user's own).
    bool simulatedClients = true;
    // False skips the descriptor budget: the structure alone (the app draws the topology of a
    // scenario whose only problem is that this machine cannot open that many connections).
    bool descriptorBudget = true;
};

LoadResult load(const QString &path, const LoadOptions &options = {});
LoadResult loadFromText(const QByteArray &text, const QString &fileName, const LoadOptions &options = {});

// A resolved variant in the scenario language itself (JSON is YAML): units written out,
// every default explicit. Loading it back gives an equal variant.
QJsonObject toJson(const Variant &variant);

// The language's spelling of each choice ("edge", "http2", "long-poll").
QString keyword(NodeKind kind);
QString keyword(UpstreamMode mode);
QString keyword(Placement placement);
QString keyword(Protocol protocol);
QString keyword(Discovery discovery);
QString keyword(Delivery delivery);
QString keyword(JitterDistribution distribution);
QString keyword(LossRecovery recovery);
QString keyword(PublishPattern pattern);
QString keyword(BrowserKind browser);
QString keyword(ClientApi client);
QString keyword(Backoff backoff);
QString keyword(ReconnectJitter jitter);
QString keyword(BalancePolicy policy);
QString keyword(WhenFull whenFull);
QString keyword(NodeFaultKind kind);

} // namespace edgesse::scenario
