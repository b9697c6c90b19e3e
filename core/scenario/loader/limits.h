#pragma once

#include <QtGlobal>

#include <chrono>

// What the loader accepts at most: each bound keeps a hostile file from costing unbounded
// time or memory, and each is named in the message that enforces it.
namespace edgesse::scenario::loader {

constexpr qint64 kMaxFileBytes = 4 * 1024 * 1024;
constexpr int kMaxDocumentValues = 50'000; // values written in the text, checked before any tree is built
constexpr int kMaxDepth = 64;
constexpr int kMaxValues = 200'000; // bounds alias expansion ("billion laughs")
constexpr int kMaxVariants = 256;
constexpr qint64 kMaxExpandedValues = 1'000'000;   // values over all variants' merged trees
constexpr qint64 kMaxSeed = (qint64(1) << 53) - 1; // exact in JSON

// Durations: every one at most a day, so sums and multiples the engine computes (in
// nanoseconds, times a scale, on top of a clock reading) stay far inside 64 bits.
constexpr std::chrono::microseconds kMaxDuration = std::chrono::hours(24);
// A one-way delay beyond a minute is no network path; it also bounds the run's drain.
constexpr std::chrono::microseconds kMaxLatency = std::chrono::minutes(1);
// Linux's TCP_RTO_MAX.
constexpr std::chrono::microseconds kMaxRto = std::chrono::minutes(2);
// Polling intervals and hold times.
constexpr std::chrono::microseconds kMaxPollDuration = std::chrono::hours(1);

// An application's reconnect wait.
constexpr std::chrono::microseconds kMaxReconnectWait = std::chrono::hours(1);
// Headless Chromium processes one population may launch (each a few hundred MB).
constexpr qint64 kMaxRealBrowsers = 8;

constexpr qint64 kMinBandwidthBitsPerSecond = 1'000;                  // 1kbps
constexpr qint64 kMaxBandwidthBitsPerSecond = 1'000'000'000'000;      // 1000Gbps
constexpr qint64 kMaxMemoryBytes = qint64(1024) * 1024 * 1024 * 1024; // 1048576MB (1 TiB)
constexpr double kMinRate = 0.001;                                    // events per second: one every 1000s

// A server's replay buffer holds at most this many bytes, each event counting as its encoded
// size plus kReplayEntryOverheadBytes (sse::ReplayBuffer's defaults). An event encodes as
// "id: N\n" and "data: PAYLOAD\n" and a blank line: at least kReplayEventFramingBytes besides
// its payload. A replay: that cannot fit is refused rather than silently cut short.
constexpr qint64 kMaxReplayBytes = 64 * 1024 * 1024;
constexpr qint64 kReplayEntryOverheadBytes = 64;
constexpr qint64 kReplayEventFramingBytes = 14;

} // namespace edgesse::scenario::loader
