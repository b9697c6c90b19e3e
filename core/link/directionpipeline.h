#pragma once

#include "core/link/linksettings.h"
#include "core/link/lossmodel.h"
#include "core/link/noreorderfloor.h"
#include "core/link/propagation.h"
#include "core/link/retransmission.h"
#include "core/link/timing.h"
#include "core/link/tokenbucket.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace edgesse::link {

// One direction of one connection as a chain of timing stages, composed per byte range:
// (gates, applied by the caller: handshake, TLS) -> token bucket (possibly shared) ->
// propagation with jitter -> loss model + recovery -> no-reorder floor. admit() hands each
// piece's release to `deliver(release, from, length, pinned)` in stream order, and each
// revision of a queued lost segment to `revise(offset, release)`. Concrete stages held by
// value and templates: no allocation, no virtual call.
class DirectionPipeline
{
public:
    // `bucket` may be shared with other flows or null (no bandwidth limit); it must outlive
    // the pipeline. `paceBytes`: piece size when pacing without loss.
    DirectionPipeline(const LinkSettings &settings, std::uint64_t seed, TokenBucket *bucket, std::size_t paceBytes);

    // True when bytes only need their propagation delay (no pacing, no loss).
    bool propagationOnly() const { return !m_bucket && !m_loss.enabled(); }

    // Returns how many segments were lost (and recovered).
    template <typename Deliver, typename Revise>
    int admit(TimePoint sent, std::uint64_t offset, std::size_t size, Deliver &&deliver, Revise &&revise);
    // A FIN sent at `sent` follows every byte before it.
    TimePoint finRelease(TimePoint sent) { return m_floor.apply(sent + m_propagation.latency()); }

    const Retransmission &retransmission() const { return m_retransmission; }

private:
    int lostTransmissions();

    TokenBucket *m_bucket;
    std::size_t m_paceBytes;
    Propagation m_propagation;
    LossModel m_loss;
    Retransmission m_retransmission;
    NoReorderFloor m_floor;
    bool m_linux;
};

template <typename Deliver, typename Revise>
int DirectionPipeline::admit(TimePoint sent, std::uint64_t offset, std::size_t size, Deliver &&deliver, Revise &&revise)
{
    const Nanos delay = m_propagation.next();
    if (propagationOnly()) {
        deliver(m_floor.apply(sent + delay), std::size_t{0}, size, false);
        return 0;
    }
    const std::size_t piece = m_loss.enabled() ? kSegmentBytes : m_paceBytes;
    int lost = 0;
    for (std::size_t from = 0; from < size;) {
        const std::size_t length = std::min(piece, size - from);
        const TimePoint departs = m_bucket ? m_bucket->depart(sent, length) : sent;
        const int losses = lostTransmissions();
        const TimePoint release = m_retransmission.onSegment(offset + from, departs, delay, losses, revise);
        lost += losses > 0 ? 1 : 0;
        if (losses > 0 && m_linux)
            deliver(release, from, length, true); // may be revised: kept out of the floor
        else
            deliver(m_floor.apply(release), from, length, false);
        from += length;
    }
    return lost;
}

} // namespace edgesse::link
