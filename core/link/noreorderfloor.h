#pragma once

#include "core/link/timing.h"

#include <algorithm>

namespace edgesse::link {

// Stage 5: TCP delivers in order, so no byte is released before one sent ahead of it.
class NoReorderFloor
{
public:
    TimePoint apply(TimePoint release)
    {
        m_floor = std::max(m_floor, release);
        return m_floor;
    }
    TimePoint floor() const { return m_floor; }

private:
    TimePoint m_floor{};
};

} // namespace edgesse::link
