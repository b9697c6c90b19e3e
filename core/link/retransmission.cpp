#include "core/link/retransmission.h"

#include <algorithm>

namespace edgesse::link {

using namespace std::chrono_literals;

namespace {

constexpr Nanos kTick = 4ms;           // 1 / CONFIG_HZ, 250 on Debian's kernels
constexpr Nanos kTimeoutMin = 2 * kTick; // TCP_TIMEOUT_MIN: 2 jiffies

} // namespace

Retransmission::Retransmission(const LinkSettings &settings)
    : m_mode(settings.lossRecovery)
    , m_fixedPenalty(settings.lossRecovery == LossRecovery::FastRetransmit ? Nanos{settings.roundTrip()}
                                                                           : Nanos{settings.retransmissionTimeout()})
    , m_returnWay(settings.latency)
    , m_rtt(Nanos{settings.roundTrip()}, Nanos{settings.rtoMin()})
{
}

Nanos Retransmission::tick()
{
    return kTick;
}

TimePoint Retransmission::Pending::detect() const
{
    return std::min({rackAt, probeAt, rtoAt});
}

TimePoint Retransmission::fixedPenalty(TimePoint arrives) const
{
    return arrives + m_fixedPenalty;
}

TimePoint Retransmission::timer(TimePoint armedAt, Nanos delay) const
{
    // Whole ticks, rounded up (usecs_to_jiffies); the timer wheel then fires on the first
    // granule boundary after that, granules growing 8-fold a level (1, 8, 64 ticks for delays
    // under 63, 504, 4032 ticks): on average half a granule late.
    const auto ticks = (delay.count() + kTick.count() - 1) / kTick.count();
    const std::int64_t granule = ticks < 63 ? 1 : ticks < 504 ? 8 : ticks < 4032 ? 64 : 512;
    return armedAt + ticks * kTick + granule * kTick / 2;
}

Nanos Retransmission::probeTimeout(bool alone) const
{
    // TCP_RTO_MIN (the constant, not the route's rto_min) covers the receiver's delayed ACK.
    const Nanos pto = 2 * m_rtt.smoothed() + (alone ? Nanos{kMinRetransmissionTimeout} : kTimeoutMin);
    return std::min(pto, m_rtt.rto());
}

TimePoint Retransmission::release(const Pending &p) const
{
    // Each lost retransmission waits one more RTO, doubled each time (exponential backoff).
    Nanos backoff{0};
    Nanos rto = m_rtt.rto();
    for (int i = 0; i < p.extraLosses; ++i) {
        backoff += rto;
        rto = std::min<Nanos>(2 * rto, 120s);
    }
    return p.detect() + backoff + p.oneWay;
}

void Retransmission::prune(TimePoint now)
{
    std::size_t kept = 0;
    for (std::size_t i = 0; i < m_pendingCount; ++i)
        if (m_pending[i].detect() > now)
            m_pending[kept++] = m_pending[i];
    m_pendingCount = kept;
}

} // namespace edgesse::link
