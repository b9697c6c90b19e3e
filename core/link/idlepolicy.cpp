#include "core/link/idlepolicy.h"

#include <algorithm>

namespace edgesse::link {

using namespace std::chrono_literals;

std::optional<TimePoint> IdlePolicy::check(TimePoint now, TimePoint lastActivity, bool inFlight) const
{
    if (now - lastActivity >= *m_idle && !inFlight)
        return std::nullopt;
    return std::max<TimePoint>(lastActivity + *m_idle, now + 1ms);
}

} // namespace edgesse::link
