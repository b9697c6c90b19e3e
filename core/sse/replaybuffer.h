#pragma once

#include <QByteArray>

#include <cstdint>
#include <deque>
#include <optional>

namespace edgesse::sse {

// The last published events, already encoded, for Last-Event-ID resumption, for polling and
// for streams that fell behind. Bounded twice: at most `capacity` events and at most
// `maxBytes` bytes, an event counting as its encoded size plus kEntryOverheadBytes; the
// oldest go first. Events are keyed by their sequence number, which the publisher also
// writes as the SSE `id`; sequence numbers only grow.
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

    // What an entry costs besides its bytes (the deque slot and the array's header).
    static constexpr qint64 kEntryOverheadBytes = 64;
    static constexpr qint64 kDefaultMaxBytes = 64 * 1024 * 1024;

    explicit ReplayBuffer(std::size_t capacity = 1000, qint64 maxBytes = kDefaultMaxBytes)
        : m_capacity(capacity), m_maxBytes(maxBytes)
    {
    }

    void append(std::uint64_t seq, QByteArray encoded);
    Since since(std::uint64_t after) const;

    std::size_t size() const { return m_entries.size(); }
    std::size_t capacity() const { return m_capacity; }
    qint64 maxBytes() const { return m_maxBytes; }
    // What the held events count against maxBytes().
    qint64 bytes() const { return m_bytes; }
    // Sequence number of the newest event ever appended (0 when none).
    std::uint64_t lastSeq() const { return m_lastSeq; }
    std::optional<std::uint64_t> firstHeldSeq() const;

private:
    void dropOldest();

    std::deque<Entry> m_entries;
    std::size_t m_capacity = 0;
    qint64 m_maxBytes = 0;
    qint64 m_bytes = 0;
    std::uint64_t m_lastSeq = 0;
};

} // namespace edgesse::sse
