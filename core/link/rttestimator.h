#pragma once

#include "core/link/timing.h"

#include <chrono>

namespace edgesse::link {

// The sender's smoothed round trip and retransmission timeout, RFC 6298 with Linux's floor:
// SRTT += (R - SRTT) / 8, RTTVAR += (|SRTT - R| - RTTVAR) / 4, RTO = SRTT + max(4 RTTVAR,
// rto_min), at most 120 s (TCP_RTO_MAX). Seeded with the handshake's sample, as the kernel
// seeds it from the SYN-ACK.
class RttEstimator
{
public:
    RttEstimator(Nanos handshakeSample, Nanos rtoMin);

    void sample(Nanos roundTrip);
    Nanos smoothed() const { return m_srtt; }
    Nanos variation() const { return m_rttvar; }
    Nanos minimum() const { return m_min; }
    Nanos rto() const;

private:
    Nanos m_srtt;
    Nanos m_rttvar;
    Nanos m_min;
    Nanos m_rtoMin;
};

} // namespace edgesse::link
