#pragma once

#include <QByteArray>

#include <chrono>
#include <cstdint>
#include <random>

namespace edgesse::sim {

enum class PublishPattern { Constant, Poisson, Bursty };

struct PublishSettings {
    PublishPattern pattern = PublishPattern::Constant;
    double eventsPerSecond = 1;  // the long-run mean rate, whatever the pattern
    int burstSize = 10;          // bursty: events published back to back per burst
    std::uint64_t seed = 1;
};

// When the publisher emits its next event: constant gaps of 1/rate; exponential gaps
// (a Poisson process) of mean 1/rate; or bursts of `burstSize` events at once, one burst
// every burstSize/rate. Seeded, so a run's publish times are reproducible.
class PublishSchedule
{
public:
    explicit PublishSchedule(const PublishSettings &settings);

    // The gap between the previous event (or the start) and the next one.
    std::chrono::nanoseconds nextGap();

private:
    PublishSettings m_settings;
    std::mt19937_64 m_random;
    std::uint64_t m_emitted = 0;
};

// Event data of exactly `bytes` bytes (printable, no line breaks), so the payload on the
// wire is the scenario's payload size.
QByteArray payloadOfSize(std::int64_t bytes);

} // namespace edgesse::sim
