#include "core/sim/stallmeter.h"

#include <algorithm>

namespace edgesse::sim {

StallMeter::StallMeter(int streams, std::chrono::microseconds lateAfter)
    : m_streams(std::max(streams, 1)), m_lateAfter(lateAfter),
      m_together(std::max(std::chrono::microseconds(1000), lateAfter / 20))
{
}

void StallMeter::arrived(int stream, std::uint64_t seq, Clock::time_point intended, Clock::time_point at)
{
    if (stream < 0 || stream >= m_streams)
        return;
    auto it = m_pending.find(seq);
    if (it == m_pending.end()) {
        it = m_pending.emplace(seq, Publish{intended, std::vector<Clock::time_point>(std::size_t(m_streams)), 0}).first;
        // Over the cap the oldest are settled, never the one just added (older than every one
        // pending, as a replayed copy can be): it is settled once its arrival is in.
        while (m_pending.size() > kPending && m_pending.begin() != it)
            settle(m_pending.begin());
    }
    Publish &p = it->second;
    if (p.arrivals[std::size_t(stream)] != Clock::time_point{})
        return;
    p.arrivals[std::size_t(stream)] = at;
    if (++p.count == m_streams || m_pending.size() > kPending)
        settle(it);
}

void StallMeter::settle(std::map<std::uint64_t, Publish>::iterator it)
{
    m_settled += stalledIn(it->second);
    m_pending.erase(it);
}

double StallMeter::stalledSeconds() const
{
    double total = m_settled;
    for (const auto &[seq, p] : m_pending)
        total += stalledIn(p);
    return total;
}

// Late copies sorted by arrival; each run of them with no gap above m_together is one
// recovery's release, all but one of which waited for another stream's loss.
double StallMeter::stalledIn(const Publish &p) const
{
    std::vector<Clock::time_point> late;
    for (const Clock::time_point at : p.arrivals) {
        if (at != Clock::time_point{} && at - p.intended > m_lateAfter)
            late.push_back(at);
    }
    std::sort(late.begin(), late.end());
    double stalled = 0;
    for (std::size_t i = 1; i < late.size(); ++i) {
        if (late[i] - late[i - 1] <= m_together)
            stalled += std::chrono::duration<double>(late[i] - p.intended).count();
    }
    return stalled;
}

} // namespace edgesse::sim
