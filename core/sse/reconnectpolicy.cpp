#include "core/sse/reconnectpolicy.h"

#include "core/util/random.h"

#include <algorithm>
#include <cmath>

namespace edgesse::sse {

std::chrono::milliseconds reconnectDelay(const std::optional<ReconnectPolicy> &policy, std::chrono::milliseconds retry,
                                         std::uint32_t attempt, std::uint64_t &random)
{
    if (!policy)
        return retry;
    const double base = static_cast<double>(policy->base.value_or(retry).count());
    double bound = base;
    if (policy->backoff == ReconnectPolicy::Backoff::Exponential)
        bound = std::min(static_cast<double>(policy->max.count()), base * std::exp2(std::min<double>(attempt, 40.0)));
    double wait = bound;
    switch (policy->jitter) {
    case ReconnectPolicy::Jitter::None: break;
    case ReconnectPolicy::Jitter::Full: wait = util::unitInterval(random) * bound; break;
    case ReconnectPolicy::Jitter::Equal: wait = bound / 2 + util::unitInterval(random) * bound / 2; break;
    }
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(wait)));
}

} // namespace edgesse::sse
