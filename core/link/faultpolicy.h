#pragma once

#include "core/link/linksettings.h"
#include "core/link/timing.h"

#include <chrono>

namespace edgesse::link {

// Connection policy: how a link ends a connection and when an outage runs. A gateway closes
// with a FIN on its timeouts (the client sees an orderly close); a link going down resets
// (the client sees ECONNRESET).
struct FaultPolicy {
    static bool resets(ReapCause cause) { return cause == ReapCause::LinkDown; }

    struct Outage {
        TimePoint down;
        TimePoint up;
    };
    static Outage outage(TimePoint now, std::chrono::microseconds after, std::chrono::microseconds duration)
    {
        return {now + after, now + after + duration};
    }
};

} // namespace edgesse::link
