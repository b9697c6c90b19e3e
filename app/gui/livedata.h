#pragma once

#include "app/gui/topologymodel.h"
#include "core/sim/livesnapshot.h"

namespace edgesse::gui {

// Connections per node and traffic per link, for the topology view.
TopologyLoad topologyLoadFromSnapshot(const sim::LiveSnapshot &snapshot);

} // namespace edgesse::gui
