#pragma once

#include "core/link/linksettings.h"
#include "core/link/rttestimator.h"
#include "core/link/timing.h"

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace edgesse::link {

// Stage 4: when a lost segment reaches the receiver after all, by the sender's recovery.
// Fed every segment of one direction in sending order, with how many of its transmissions
// the line dropped; returns the segment's release (arrival at the receiver). Under
// LossRecovery::Linux a later segment can bring an earlier loss's recovery forward (or, a
// new tail loss, put it back): each change is handed to `revise(offset, release)`, and the
// caller moves the queued segment starting at that stream offset.
//
// Linux (net/ipv4/tcp_recovery.c, tcp_output.c, tcp_timer.c; RFC 8985, RFC 6298):
// - RACK: once a segment sent after the lost one is SACKed (one RTT after it left), the lost
//   one is retransmitted when it has been out RTT + reo_wnd; reo_wnd = min_rtt / 4 while
//   fewer than 3 segments are SACKed (DupThresh), 0 from the third.
// - Tail-loss probe, when nothing later is delivered: PTO = 2 SRTT, plus rto_min (the
//   delayed-ACK allowance) when this segment was alone in flight, else plus 2 ticks; never
//   later than the RTO. The probe retransmits the tail; its SACK then reveals earlier losses.
// - RTO = SRTT + max(4 RTTVAR, rto_min), doubling on each repeated loss of the same segment.
// Kernel timers run on a tick (HZ = 250 on Debian: 4 ms) and the timer wheel's granules: a
// timer fires on average half a granule after its whole number of ticks (2 ms under 252 ms,
// 16 ms under 2 s, 128 ms beyond).
class Retransmission
{
public:
    explicit Retransmission(const LinkSettings &settings);

    template <typename Revise>
    TimePoint onSegment(std::uint64_t offset, TimePoint departs, Nanos oneWay, int lostTransmissions, Revise &&revise);

    Nanos rto() const { return m_rtt.rto(); }
    const RttEstimator &estimator() const { return m_rtt; }
    static Nanos tick();

private:
    struct Pending {
        std::uint64_t offset = 0;
        TimePoint departs{};
        Nanos oneWay{0};
        int extraLosses = 0;     // retransmissions lost too, each recovered by a (backed-off) RTO
        int sackedAfter = 0;     // later segments delivered
        TimePoint rackAt = TimePoint::max();
        TimePoint probeAt = TimePoint::max();
        TimePoint rtoAt = TimePoint::max();
        TimePoint detect() const;
    };

    TimePoint fixedPenalty(TimePoint arrives) const;
    TimePoint release(const Pending &p) const;
    TimePoint timer(TimePoint armedAt, Nanos delay) const;
    Nanos probeTimeout(bool alone) const;
    void prune(TimePoint now);

    static constexpr std::size_t kMaxPending = 16;
    static constexpr int kDupThresh = 3;

    LossRecovery m_mode;
    Nanos m_fixedPenalty{0};
    Nanos m_returnWay{0};
    RttEstimator m_rtt;
    TimePoint m_lastAckAt{};
    std::array<Pending, kMaxPending> m_pending{};
    std::size_t m_pendingCount = 0;
};

template <typename Revise>
TimePoint Retransmission::onSegment(std::uint64_t offset, TimePoint departs, Nanos oneWay, int lostTransmissions,
                                    Revise &&revise)
{
    const TimePoint arrives = departs + oneWay;
    if (lostTransmissions > 0 && m_mode != LossRecovery::Linux)
        return fixedPenalty(arrives);
    if (m_mode != LossRecovery::Linux)
        return arrives;

    prune(departs);
    const Nanos roundTrip = oneWay + m_returnWay;
    if (lostTransmissions == 0) {
        const TimePoint sackedAt = departs + roundTrip;
        for (std::size_t i = 0; i < m_pendingCount; ++i) {
            Pending &p = m_pending[i];
            const TimePoint before = p.detect();
            ++p.sackedAfter;
            const Nanos reoWnd = p.sackedAfter >= kDupThresh ? Nanos{0} : m_rtt.minimum() / 4;
            const TimePoint reorderTimer = p.departs + roundTrip + reoWnd;
            p.rackAt = std::min(p.rackAt, sackedAt >= reorderTimer ? sackedAt : timer(sackedAt, reorderTimer - sackedAt));
            if (p.detect() != before)
                revise(p.offset, release(p));
        }
        m_rtt.sample(roundTrip);
        m_lastAckAt = std::max(m_lastAckAt, sackedAt);
        return arrives;
    }

    const bool alone = m_lastAckAt <= departs && m_pendingCount == 0;
    const TimePoint probe = timer(departs, probeTimeout(alone));
    // Sending this segment re-arms the probe; its SACK would reveal the earlier losses.
    for (std::size_t i = 0; i < m_pendingCount; ++i) {
        Pending &p = m_pending[i];
        const TimePoint before = p.detect();
        p.probeAt = std::max(probe + roundTrip, p.departs + roundTrip + m_rtt.minimum() / 4);
        if (p.detect() != before)
            revise(p.offset, release(p));
    }
    Pending p;
    p.offset = offset;
    p.departs = departs;
    p.oneWay = oneWay;
    p.extraLosses = lostTransmissions - 1;
    p.probeAt = probe;
    p.rtoAt = timer(departs, m_rtt.rto());
    if (m_pendingCount == kMaxPending) {
        // The oldest keeps what it has; later segments no longer revise it.
        for (std::size_t i = 1; i < kMaxPending; ++i)
            m_pending[i - 1] = m_pending[i];
        --m_pendingCount;
    }
    m_pending[m_pendingCount++] = p;
    m_lastAckAt = std::max(m_lastAckAt, p.detect() + roundTrip);
    return release(p);
}

} // namespace edgesse::link
