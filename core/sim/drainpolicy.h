#pragma once

#include "core/scenario/scenario.h"

#include <chrono>
#include <cstdint>

namespace edgesse::sim {

// How long a run goes on after the publisher stopped, so that events still in flight are
// not counted as lost. At least `quiet` (3 × the slowest path, a poller's interval more when
// there are pollers), then on while events still arrive — the last events take a while to
// fan out to thousands of streams — and while streams that were cut are coming back
// (reconnect delay, handshakes, Last-Event-ID replay). Never longer than `cap` (about one
// retry and a second more).
struct DrainPolicy {
    using Clock = std::chrono::steady_clock;
    Clock::duration quiet{0};
    Clock::duration cap{0};
    Clock::duration settle{std::chrono::milliseconds(50)};       // no arrival for this long: done
    Clock::duration reconnectPoll{std::chrono::milliseconds(20)}; // how often to look while streams come back

    static DrainPolicy forVariant(const scenario::Variant &v);
};

// One drain, as a pure function of what the run observes, so it is tested on made-up
// clocks. The run sleeps until wakeAt() (or a cancel), then calls next() with the time and
// its counters; false means the drain is over.
class Drain
{
public:
    using Clock = DrainPolicy::Clock;

    Drain(const DrainPolicy &policy, Clock::time_point stoppedAt, std::uint64_t delivered);

    Clock::time_point wakeAt() const;
    // `reconnecting`: streams that had subscribed and are coming back now; `delivered`: the
    // run's delivered events so far; `linkBytesHeld`: bytes the links have yet to release
    // (a slow line still serialising the last events).
    bool next(Clock::time_point now, std::int64_t reconnecting, std::uint64_t delivered, std::uint64_t linkBytesHeld = 0);

private:
    DrainPolicy m_policy;
    Clock::time_point m_until;
    Clock::time_point m_cap;
    std::uint64_t m_seen = 0;
    bool m_wasReconnecting = false;
};

} // namespace edgesse::sim
