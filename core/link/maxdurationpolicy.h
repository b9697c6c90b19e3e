#pragma once

#include "core/link/timing.h"

#include <chrono>
#include <optional>

namespace edgesse::link {

// Connection policy: a gateway's bound on a connection's life, counted from its accept.
class MaxDurationPolicy
{
public:
    explicit MaxDurationPolicy(std::optional<std::chrono::microseconds> maxDuration)
        : m_max(maxDuration)
    {
    }

    std::optional<TimePoint> deadline(TimePoint openedAt) const
    {
        return m_max ? std::optional<TimePoint>(openedAt + *m_max) : std::nullopt;
    }

private:
    std::optional<std::chrono::microseconds> m_max;
};

} // namespace edgesse::link
