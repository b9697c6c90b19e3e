#pragma once

#include <QObject>
#include <QString>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::link {
Q_NAMESPACE

enum class JitterDistribution {
    Uniform, // offset uniform in [-jitter, +jitter]
    Normal,  // normal with sigma = jitter / 2, truncated to [-jitter, +jitter]
    Pareto,  // non-negative, heavy-tailed: jitter * min(X - 1, 10), X ~ Pareto(1, 2); mean = 0.91 * jitter
};
Q_ENUM_NS(JitterDistribution)

// How a lost segment is recovered, i.e. how late it (and everything behind it) arrives.
enum class LossRecovery {
    FastRetransmit, // one extra round trip
    Timeout,        // the retransmission timeout: max(rto, RTT + 4 * jitter)
    Linux,          // RACK, tail-loss probe or RTO, as the Linux sender would (retransmission.h)
};
Q_ENUM_NS(LossRecovery)

enum class LossPattern {
    Independent, // each segment lost with the link's probability
    Burst,       // Gilbert-Elliott: losses in runs of burstLength segments on average
};
Q_ENUM_NS(LossPattern)

// Which connections share one token bucket (one line) each way.
enum class BandwidthSharing {
    PerConnection, // each connection its own line
    PerPeer,       // the connections from one client address: a browser's access line
    PerLink,       // every connection over the link: one pipe between two nodes
};
Q_ENUM_NS(BandwidthSharing)

enum class ReapCause {
    IdleTimeout, // no byte either way for idleTimeout
    MaxDuration, // open for maxDuration
    LinkDown,    // reset because the link went down
};
Q_ENUM_NS(ReapCause)
inline constexpr int kReapCauseCount = 3;

enum class Direction {
    Upstream,   // client -> target
    Downstream, // target -> client
};
Q_ENUM_NS(Direction)

// One link, each way. Latency is one-way; the round trip is twice the latency.
struct LinkSettings {
    std::chrono::microseconds latency{0};
    std::chrono::microseconds jitter{0};
    JitterDistribution distribution = JitterDistribution::Uniform;
    std::uint64_t seed = 0;
    std::uint64_t bandwidthBitsPerSecond = 0; // each way; 0 = unlimited
    BandwidthSharing sharing = BandwidthSharing::PerConnection;
    double lossProbability = 0; // per segment (kSegmentBytes), each way
    LossRecovery lossRecovery = LossRecovery::Linux;
    LossPattern lossPattern = LossPattern::Independent;
    double burstLength = 1; // mean run of lost segments, LossPattern::Burst
    // Timeout: the fixed penalty's floor. Linux: the RTO's floor (the route's rto_min).
    std::chrono::microseconds rto{std::chrono::milliseconds(200)};
    bool tls = false; // the handshake takes one more round trip
    // Real TLS crosses the link (a scenario's `tls: true`): each connection's handshake is
    // watched and a failed one counted, with its cause (tlshandshakewatch.h).
    bool realTls = false;
    std::optional<std::chrono::microseconds> idleTimeout;
    std::optional<std::chrono::microseconds> maxDuration;
    // Bytes held per direction before the proxy stops reading from the sender; 0 = sized
    // from bandwidth and latency so the link can stay full.
    std::uint64_t maxBufferedBytes = 0;
    // Every byte written this much after its release, the release log unchanged: a machine
    // made late on purpose, to test that a run's measured error sees it.
    std::chrono::microseconds lateBy{0};

    std::chrono::microseconds roundTrip() const { return 2 * latency; }
    // The time a client's connect() takes on this link: 1 RTT, 2 with TLS.
    std::chrono::microseconds handshake() const { return (tls ? 2 : 1) * roundTrip(); }
    std::chrono::microseconds retransmissionTimeout() const;
    std::chrono::microseconds rtoMin() const { return rto; }
    std::uint64_t effectiveMaxBufferedBytes() const;

    // Empty when usable; otherwise what is wrong and how to fix it.
    QString validationError() const;
};

inline constexpr std::size_t kSegmentBytes = 1448; // TCP payload of a 1500 B MTU segment
inline constexpr std::chrono::milliseconds kMinRetransmissionTimeout{200};

} // namespace edgesse::link
