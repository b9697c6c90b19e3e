#pragma once

#include "core/link/timing.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace edgesse::link {

// Stage 0, the connect itself: SYNs to the link's port, held for one round trip before the
// kernel may answer them, so a client's connect() completes 1 RTT after it was made. The
// delay is the same for every SYN, so they leave in the order they came (a FIFO); `id` is
// whatever the holder needs to let the packet go (an NFQUEUE packet id).
//
// Pure timing, no sockets: SynDelay (syndelay.h) feeds it packets and releases them.
class SynHold
{
public:
    explicit SynHold(std::chrono::microseconds roundTrip) : m_roundTrip(roundTrip) {}

    std::chrono::microseconds roundTrip() const { return m_roundTrip; }
    // A SYN seen at `arrival`; returns when it may go on.
    TimePoint admit(std::uint32_t id, TimePoint arrival)
    {
        const TimePoint release = arrival + m_roundTrip;
        m_held.push_back({id, release});
        return release;
    }
    // The release of the SYN held longest, if any.
    std::optional<TimePoint> nextRelease() const
    {
        if (m_held.empty())
            return std::nullopt;
        return m_held.front().release;
    }
    // The next SYN due at `now` (its id), if any, left held until take().
    std::optional<std::uint32_t> due(TimePoint now) const
    {
        if (m_held.empty() || m_held.front().release > now)
            return std::nullopt;
        return m_held.front().id;
    }
    // Forgets the SYN due() named: it has been let go.
    void take() { m_held.pop_front(); }
    // Takes the next SYN due at `now` (its id), if any.
    std::optional<std::uint32_t> takeDue(TimePoint now)
    {
        const auto id = due(now);
        if (id)
            take();
        return id;
    }
    std::size_t held() const { return m_held.size(); }

private:
    struct Held {
        std::uint32_t id;
        TimePoint release;
    };
    std::chrono::microseconds m_roundTrip;
    std::deque<Held> m_held;
};

} // namespace edgesse::link
