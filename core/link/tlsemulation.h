#pragma once

#include "core/link/timing.h"

#include <algorithm>
#include <chrono>

namespace edgesse::link {

// Stage 1b, client -> target only: the round trip a TLS 1.3 handshake adds (ClientHello out,
// ServerHello..Finished back) when `tls: true` is emulated rather than carried for real. The
// client's application bytes count as sent no earlier than `readyAt`. Disabled (zero round
// trips) it passes every time through unchanged.
class TlsEmulation
{
public:
    TlsEmulation() = default;
    TlsEmulation(TimePoint handshakeDone, std::chrono::microseconds roundTrip, bool enabled)
        : m_readyAt(enabled ? handshakeDone + roundTrip : handshakeDone)
    {
    }

    TimePoint readyAt() const { return m_readyAt; }
    TimePoint sent(TimePoint arrival) const { return std::max(arrival, m_readyAt); }

private:
    TimePoint m_readyAt{};
};

} // namespace edgesse::link
