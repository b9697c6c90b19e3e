#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace edgesse::sim {

// Exactly-once accounting for one stream. A stream expects every event published from the
// moment it first subscribed to the end of the run — through reconnects: an event
// published while it was reconnecting is expected, and lost unless replay delivers it.
// Sequence numbers start at 1. Used from one thread (the stream's).
class StreamAccount
{
public:
    struct Tally {
        std::uint64_t expected = 0;
        std::uint64_t delivered = 0; // distinct expected events received
        std::uint64_t lost = 0;      // expected - delivered
        std::uint64_t duplicated = 0;
        bool subscribed = false;
    };

    // The stream's subscription was accepted, `publishedSoFar` events were out before it.
    // Only the first call counts: later ones are reconnects of the same subscription.
    void subscribed(std::uint64_t publishedSoFar);
    // Returns false for a duplicate.
    bool received(std::uint64_t seq);

    // `lastPublished`: the sequence number of the last event of the run.
    Tally tally(std::uint64_t lastPublished) const;

    bool isSubscribed() const { return m_firstExpected.has_value(); }
    std::uint64_t receivedCount() const { return m_distinct; }

private:
    bool testAndSet(std::uint64_t seq);
    std::uint64_t firstReceived() const;

    // The first expected sequence number: the first published after the subscription was
    // accepted — or an earlier one the stream received anyway (the server registered it
    // before the client saw the response).
    std::optional<std::uint64_t> m_firstExpected;
    std::uint64_t m_base = 1; // sequence number of bit 0 of m_bits
    std::vector<std::uint64_t> m_bits;
    std::uint64_t m_distinct = 0;
    std::uint64_t m_duplicated = 0;
};

} // namespace edgesse::sim
