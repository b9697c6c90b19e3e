#pragma once

#include "core/link/timing.h"

#include <algorithm>
#include <chrono>

namespace edgesse::link {

// Stage 1, client -> target only: the TCP handshake. A connection made at `connectedAt`
// completes one round trip later (SYN out, SYN-ACK back); the client's bytes cannot leave
// before that, so a byte that reaches the link earlier counts as sent then.
class HandshakeGate
{
public:
    HandshakeGate() = default;
    HandshakeGate(TimePoint connectedAt, std::chrono::microseconds roundTrip)
        : m_completesAt(connectedAt + roundTrip)
    {
    }

    TimePoint completesAt() const { return m_completesAt; }
    TimePoint sent(TimePoint arrival) const { return std::max(arrival, m_completesAt); }

private:
    TimePoint m_completesAt{};
};

} // namespace edgesse::link
