#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::sse {

// A page's own reconnect policy, on top of the browser's (which waits exactly the
// reconnection time). Attempt n — the nth consecutive reconnect since the stream was last
// open, from 0 — is bounded by min(max, base × 2^n) (exponential) or base (none); jitter
// draws the wait below that bound: none (the bound), full (uniform in [0, bound]), equal
// (bound/2 + uniform in [0, bound/2]).
struct ReconnectPolicy {
    enum class Backoff : std::uint8_t { None, Exponential };
    enum class Jitter : std::uint8_t { None, Full, Equal };
    Backoff backoff = Backoff::Exponential;
    std::optional<std::chrono::milliseconds> base; // nullopt: the stream's reconnection time
    std::chrono::milliseconds max{30'000};
    Jitter jitter = Jitter::None;
};

// The wait before reconnect `attempt` under `policy` (nullopt: the browser's, exactly
// `retry`), drawing from `random` (util::splitMix64 state) only when jitter needs it.
std::chrono::milliseconds reconnectDelay(const std::optional<ReconnectPolicy> &policy, std::chrono::milliseconds retry,
                                         std::uint32_t attempt, std::uint64_t &random);

} // namespace edgesse::sse
