#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace edgesse::sim {

// The publish time of each event, by sequence number, shared between the publisher's
// thread (writes) and every stream's thread (reads) without a lock: a ring of `capacity`
// slots, each holding the sequence number it describes so a reader never mistakes an
// overwritten slot for its event. Sequence numbers start at 1.
class PublishLog
{
public:
    using Clock = std::chrono::steady_clock;

    explicit PublishLog(std::size_t capacity = std::size_t{1} << 18)
        : m_capacity(capacity)
        , m_slots(std::make_unique<Slot[]>(capacity))
    {
    }

    // Called by the publisher before the event leaves it.
    void record(std::uint64_t seq, Clock::time_point publishedAt)
    {
        Slot &slot = m_slots[seq % m_capacity];
        slot.seq.store(0, std::memory_order_relaxed);
        slot.nanos.store(publishedAt.time_since_epoch().count(), std::memory_order_relaxed);
        slot.seq.store(seq, std::memory_order_release);
        m_published.store(seq, std::memory_order_release);
    }

    std::optional<Clock::time_point> publishedAt(std::uint64_t seq) const
    {
        const Slot &slot = m_slots[seq % m_capacity];
        if (slot.seq.load(std::memory_order_acquire) != seq)
            return std::nullopt;
        const auto nanos = slot.nanos.load(std::memory_order_relaxed);
        if (slot.seq.load(std::memory_order_acquire) != seq)
            return std::nullopt;
        return Clock::time_point(Clock::duration(nanos));
    }

    // The last sequence number published (0 before the first event).
    std::uint64_t published() const { return m_published.load(std::memory_order_acquire); }

private:
    struct Slot {
        std::atomic<std::uint64_t> seq{0};
        std::atomic<Clock::rep> nanos{0};
    };
    std::size_t m_capacity;
    std::unique_ptr<Slot[]> m_slots;
    std::atomic<std::uint64_t> m_published{0};
};

} // namespace edgesse::sim
