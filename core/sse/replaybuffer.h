#pragma once

#include <QByteArray>

#include <cstdint>
#include <deque>
#include <optional>

namespace edgesse::sse {

// The last `capacity` published events, already encoded, for Last-Event-ID resumption and
// for polling. Events are keyed by their sequence number, which the publisher also writes
// as the SSE `id`; sequence numbers only grow.
class ReplayBuffer
{
public:
    struct Entry {
        std::uint64_t seq = 0;
        QByteArray encoded;
    };

    // What a reader that saw everything up to `after` can get back.
    struct Since {
        std::deque<Entry>::const_iterator begin;
        std::deque<Entry>::const_iterator end;
        // Events after `after` that are no longer held (0: the replay is complete).
        std::uint64_t lost = 0;
        std::size_t count() const { return static_cast<std::size_t>(end - begin); }
    };

    explicit ReplayBuffer(std::size_t capacity = 1000) : m_capacity(capacity) {}

    void append(std::uint64_t seq, QByteArray encoded);
    Since since(std::uint64_t after) const;

    std::size_t size() const { return m_entries.size(); }
    std::size_t capacity() const { return m_capacity; }
    // Sequence number of the newest event ever appended (0 when none).
    std::uint64_t lastSeq() const { return m_lastSeq; }
    std::optional<std::uint64_t> firstHeldSeq() const;

private:
    std::deque<Entry> m_entries;
    std::size_t m_capacity = 0;
    std::uint64_t m_lastSeq = 0;
};

} // namespace edgesse::sse
