#pragma once

#include "core/link/linksettings.h"
#include "core/scenario/scenario.h"
#include "core/sim/publishschedule.h"

#include <cstdint>

namespace edgesse::sim {

// The scenario's words translated into the settings of the components that model them.
link::LinkSettings linkSettings(const scenario::Link &l, std::uint64_t seed);
PublishSettings publishSettings(const scenario::Publisher &p, std::uint64_t seed);

} // namespace edgesse::sim
