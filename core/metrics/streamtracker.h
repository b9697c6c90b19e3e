#pragma once

#include <QString>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace edgesse::metrics {

// Why a stream's connection ended and the EventSource reconnected.
enum class DisconnectCause : std::uint8_t {
    IdleTimeout, // a gateway reaped the idle connection
    MaxDuration, // a gateway or the server cut the stream after its maximum duration
    ServerClose, // the server ended the response
    Error,       // connection refused, reset, link down, parse error
    Rejected,    // non-200 answer (503 at a connection cap) followed by a retry
};
inline constexpr std::size_t kDisconnectCauseCount = 5;
QString disconnectCauseName(DisconnectCause cause); // "idle_timeout", "max_duration", ...

// Why an expected event never arrived. The first five mirror DisconnectCause: the event
// was published during the gap of a reconnect with that cause and was not replayed.
enum class LossCause : std::uint8_t {
    IdleTimeout,
    MaxDuration,
    ServerClose,
    Error,
    Rejected,
    NotConnected, // published after the stream was opened but before its first event arrived
                  // (waiting for a connection, e.g. starved behind HTTP/1.1's six)
    Gap,          // a hole between two events of one connection (dropped on the way)
    Tail,         // published after the stream's last event with no reconnect since
                  // (stalled, or still in flight when the run stopped)
    NeverServed,  // the stream never got a response (starved or failing the whole run):
                  // everything published while its browser wanted it
};
inline constexpr std::size_t kLossCauseCount = 9;
QString lossCauseName(LossCause cause); // "idle_timeout", ..., "gap", "tail", "never_served"
LossCause lossCauseFor(DisconnectCause cause);

// Exactly-once figures of one stream (or a sum over streams).
// Invariant: delivered + lost == expected.
struct StreamAccount {
    std::uint64_t expected = 0;   // events published while the stream was subscribed
    std::uint64_t delivered = 0;  // distinct expected events received
    std::uint64_t lost = 0;       // expected events never received
    std::uint64_t duplicated = 0; // receipts of an event already received
    std::uint64_t early = 0;      // events from before the stream was opened (e.g. replayed)
    std::uint64_t reconnects = 0;
    std::array<std::uint64_t, kLossCauseCount> lostByCause{};
    std::array<std::uint64_t, kDisconnectCauseCount> reconnectsByCause{};

    StreamAccount &operator+=(const StreamAccount &other);
};

// Exactly-once accounting for one stream, by sequence number. Kept cheap for thousands of
// streams: received sequence numbers are held as sorted disjoint ranges, so in-order
// delivery is O(1) and memory grows only with the number of holes. Used from the stream's
// own thread; account() when the stream is done (or on a copy).
class StreamTracker
{
public:
    enum class Receipt { Delivered, Duplicate, Early };

    // `firstExpectedSeq`: the publisher's next sequence number when the stream was opened.
    explicit StreamTracker(std::uint64_t firstExpectedSeq = 0);

    void setFirstExpected(std::uint64_t seq) { m_first = seq; }
    std::uint64_t firstExpected() const { return m_first; }

    Receipt received(std::uint64_t seq);
    // The connection ended with `cause`; the EventSource reconnects (or retries).
    void disconnected(DisconnectCause cause);

    bool hasReceived() const { return !m_ranges.empty(); }
    std::uint64_t highWater() const { return m_ranges.empty() ? 0 : m_ranges.back().hi; }
    std::uint64_t duplicated() const { return m_duplicated; }
    std::uint64_t reconnects() const { return m_interruptions.size(); }
    std::size_t holes() const { return m_ranges.empty() ? 0 : m_ranges.size() - 1; }

    // Figures against the events [firstExpected, lastExpectedSeq]: the last sequence number
    // the stream should have received (the last one published before the run's cut-off).
    // Receipts below firstExpected (before the measured window) count for nothing.
    StreamAccount account(std::uint64_t lastExpectedSeq) const;
    // For a stream that never got a response: every event of [firstExpected,
    // lastExpectedSeq] lost, as `rejected` when a cap turned it away (a Rejected
    // interruption), otherwise as `never_served`.
    StreamAccount neverServed(std::uint64_t lastExpectedSeq) const;

private:
    struct Range {
        std::uint64_t lo;
        std::uint64_t hi; // inclusive
    };
    struct Interruption {
        DisconnectCause cause;
        bool hadReceived;        // whether any event had arrived before it
        std::uint64_t highWater; // last received seq at the time
        bool resumed = false;    // an event arrived after it
        std::uint64_t resumedAt = 0;
    };

    void attribute(std::uint64_t lo, std::uint64_t hi, StreamAccount &account) const;
    void attributeDefault(std::uint64_t lo, std::uint64_t hi, StreamAccount &account) const;

    std::uint64_t m_first = 0;
    std::vector<Range> m_ranges;
    std::vector<Interruption> m_interruptions;
    std::uint64_t m_duplicated = 0;
    std::uint64_t m_early = 0;
    std::size_t m_unresumed = 0; // index of the first interruption not yet resumed
};

} // namespace edgesse::metrics
