#include "core/sim/hopledger.h"

#include "core/link/linkproxy.h"

namespace edgesse::sim {

HopLedger::HopLedger(const link::LinkProxy *upstream)
    : m_upstream(upstream)
    , m_slots(std::make_unique<std::array<Slot, kSlots>>())
{
}

void HopLedger::eventReceived(std::uint64_t stream, const sse::ReceivedEvent &event)
{
    if (stream != 0 || !event.seq || !event.wire || !m_upstream)
        return;
    Slot &slot = (*m_slots)[*event.seq % kSlots];
    if (slot.tag.load(std::memory_order_relaxed) == *event.seq + 1)
        return; // a replayed copy: the relay published the first
    const auto release = m_upstream->intendedRelease(event.wire->localIPv4, event.wire->localPort,
                                                     link::Direction::Downstream, event.wire->offset);
    slot.tag.store(0, std::memory_order_relaxed);
    if (!release)
        return;
    slot.delayUs.store(release->modelled().count(), std::memory_order_release);
    slot.tag.store(*event.seq + 1, std::memory_order_release);
}

std::optional<std::chrono::microseconds> HopLedger::modelled(std::uint64_t seq) const
{
    const Slot &slot = (*m_slots)[seq % kSlots];
    if (slot.tag.load(std::memory_order_acquire) != seq + 1)
        return std::nullopt;
    const std::int64_t delay = slot.delayUs.load(std::memory_order_acquire);
    if (slot.tag.load(std::memory_order_acquire) != seq + 1)
        return std::nullopt;
    return std::chrono::microseconds(delay);
}

} // namespace edgesse::sim
