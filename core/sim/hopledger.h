#pragma once

#include "core/sse/streamobserver.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace edgesse::link {
class LinkProxy;
}

namespace edgesse::sim {

// What the model drew for the hop into a PoP: as the PoP's relay receives each event from
// the origin (its upstream observer), the ledger asks the upstream link's release log what
// delay that link meant for the event's last byte, and keeps it by sequence number, so a
// client of the PoP can add it to its own hop's. One relay stream (shared upstream) only:
// with one upstream copy per client, which copy a client got is the PoP server's choice,
// and nothing is kept.
//
// Written on the relay's thread; modelled() may be called from any thread. Keeps the last
// kSlots events.
class HopLedger final : public sse::StreamObserver
{
public:
    static constexpr std::size_t kSlots = 8192;

    // `upstream`: the PoP's link to the origin; it outlives every reader.
    explicit HopLedger(const link::LinkProxy *upstream);

    void eventReceived(std::uint64_t stream, const sse::ReceivedEvent &event) override;
    // The upstream hop's modelled delay for event `seq`, when known.
    std::optional<std::chrono::microseconds> modelled(std::uint64_t seq) const;

private:
    struct Slot {
        std::atomic<std::uint64_t> tag{0}; // seq + 1 while `delay` is valid, 0 while written
        std::atomic<std::int64_t> delayUs{0};
    };
    const link::LinkProxy *m_upstream;
    std::unique_ptr<std::array<Slot, kSlots>> m_slots;
};

} // namespace edgesse::sim
