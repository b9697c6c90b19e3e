#pragma once

#include <chrono>

namespace edgesse::routing {

// A balancer's admission rate: at most `ratePerSecond` new connections a second, with a
// bucket of `burst` admissions saved up while it is quiet (full at the start). Each admitted
// connection spends one; a connection that finds the bucket empty is turned away. A rate of
// 0 admits everything. Not thread-safe: used on the balancer's thread.
class AdmissionBucket
{
public:
    using Clock = std::chrono::steady_clock;

    AdmissionBucket() = default;
    AdmissionBucket(double ratePerSecond, double burst);

    bool admit(Clock::time_point now);
    bool limited() const { return m_rate > 0; }

private:
    double m_rate = 0;
    double m_burst = 0;
    double m_tokens = 0;
    Clock::time_point m_filled{};
    bool m_started = false;
};

} // namespace edgesse::routing
