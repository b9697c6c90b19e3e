#include "core/sim/drainpolicy.h"

#include <algorithm>

namespace edgesse::sim {

using namespace std::chrono_literals;

DrainPolicy DrainPolicy::forVariant(const scenario::Variant &v)
{
    std::chrono::microseconds slowest{0};
    for (const auto &group : v.clients)
        slowest = std::max(slowest, v.pathLatency(group));
    DrainPolicy policy;
    policy.quiet = std::max<Clock::duration>(200ms, 3 * slowest + 100ms);
    for (const auto &group : v.clients) {
        if (group.delivery == scenario::Delivery::Poll)
            policy.quiet = std::max<Clock::duration>(policy.quiet, group.pollInterval + 2 * v.pathLatency(group) + 100ms);
    }
    policy.cap = policy.quiet + v.sse.retry * 13 / 10 + 4 * slowest + 1s;
    return policy;
}

Drain::Drain(const DrainPolicy &policy, Clock::time_point stoppedAt, std::uint64_t delivered)
    : m_policy(policy)
    , m_until(stoppedAt + policy.quiet)
    , m_cap(stoppedAt + policy.cap)
    , m_seen(delivered)
{
}

Drain::Clock::time_point Drain::wakeAt() const
{
    return std::min(m_until, m_cap);
}

bool Drain::next(Clock::time_point now, std::int64_t reconnecting, std::uint64_t delivered, std::uint64_t linkBytesHeld)
{
    if (now >= m_cap)
        return false;
    if (linkBytesHeld > 0) {
        m_until = now + m_policy.reconnectPoll;
        return true;
    }
    if (reconnecting > 0) {
        m_wasReconnecting = true;
        m_until = now + m_policy.reconnectPoll;
        return true;
    }
    if (m_wasReconnecting) { // back: give the replay its path
        m_wasReconnecting = false;
        m_until = now + m_policy.quiet;
        m_seen = delivered;
        return true;
    }
    if (delivered == m_seen)
        return false; // nothing arrived since the last look
    m_seen = delivered;
    m_until = now + m_policy.settle;
    return true;
}

} // namespace edgesse::sim
