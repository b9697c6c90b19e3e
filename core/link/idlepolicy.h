#pragma once

#include "core/link/timing.h"

#include <chrono>
#include <optional>

namespace edgesse::link {

// Connection policy: a gateway's idle timeout. A connection that carried no byte either way
// for `idle`, with nothing still travelling the link, is reaped; otherwise it is checked
// again when it could next have been idle that long.
class IdlePolicy
{
public:
    explicit IdlePolicy(std::optional<std::chrono::microseconds> idle)
        : m_idle(idle)
    {
    }

    bool enabled() const { return m_idle.has_value(); }
    TimePoint firstCheck(TimePoint openedAt) const { return openedAt + *m_idle; }
    // Empty: reap now. Otherwise the time of the next check.
    std::optional<TimePoint> check(TimePoint now, TimePoint lastActivity, bool inFlight) const;

private:
    std::optional<std::chrono::microseconds> m_idle;
};

} // namespace edgesse::link
