#pragma once

#include "core/link/timing.h"

#include <algorithm>
#include <chrono>

namespace edgesse::link {

// How the connect's round trip is paid on a link.
enum class ConnectTiming {
    HeldSyn,     // the SYN was held for the RTT before the kernel answered it (SynDelay): the
                 // handshake is over by the time the link accepts the connection
    ChargedToData, // the kernel answered at once: the client's first bytes pay the RTT here
};

// Stage 1, client -> target only: the TCP handshake. A connection made at `connectedAt`
// completes one round trip later (SYN out, SYN-ACK back); the client's bytes cannot leave
// before that, so a byte that reaches the link earlier counts as sent then. With a held SYN
// the link accepts the connection when the handshake has completed: nothing is added, so
// the round trip is never counted twice.
class HandshakeGate
{
public:
    HandshakeGate() = default;
    HandshakeGate(TimePoint connectedAt, std::chrono::microseconds roundTrip)
        : m_completesAt(connectedAt + roundTrip)
    {
    }
    HandshakeGate(TimePoint acceptedAt, std::chrono::microseconds roundTrip, ConnectTiming timing)
        : m_completesAt(timing == ConnectTiming::HeldSyn ? acceptedAt : acceptedAt + roundTrip)
    {
    }

    TimePoint completesAt() const { return m_completesAt; }
    TimePoint sent(TimePoint arrival) const { return std::max(arrival, m_completesAt); }

private:
    TimePoint m_completesAt{};
};

} // namespace edgesse::link
