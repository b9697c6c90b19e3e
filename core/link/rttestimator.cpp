#include "core/link/rttestimator.h"

#include <algorithm>

namespace edgesse::link {

using namespace std::chrono_literals;

RttEstimator::RttEstimator(Nanos handshakeSample, Nanos rtoMin)
    : m_srtt(handshakeSample)
    , m_rttvar(handshakeSample / 2)
    , m_min(handshakeSample)
    , m_rtoMin(rtoMin)
{
}

void RttEstimator::sample(Nanos roundTrip)
{
    const Nanos deviation = roundTrip > m_srtt ? roundTrip - m_srtt : m_srtt - roundTrip;
    m_rttvar += (deviation - m_rttvar) / 4;
    m_srtt += (roundTrip - m_srtt) / 8;
    m_min = std::min(m_min, roundTrip);
}

Nanos RttEstimator::rto() const
{
    constexpr Nanos kMaxRto = 120s;
    return std::min(kMaxRto, m_srtt + std::max(4 * m_rttvar, m_rtoMin));
}

} // namespace edgesse::link
