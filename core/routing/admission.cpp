#include "core/routing/admission.h"

#include <algorithm>

namespace edgesse::routing {

AdmissionBucket::AdmissionBucket(double ratePerSecond, double burst)
    : m_rate(std::max(ratePerSecond, 0.0)), m_burst(std::max(burst, 1.0)), m_tokens(m_burst)
{}

bool AdmissionBucket::admit(Clock::time_point now)
{
    if (m_rate <= 0)
        return true;
    if (m_started)
        m_tokens = std::min(m_burst, m_tokens + std::chrono::duration<double>(now - m_filled).count() * m_rate);
    m_started = true;
    m_filled = now;
    if (m_tokens < 1)
        return false;
    m_tokens -= 1;
    return true;
}

} // namespace edgesse::routing
