#pragma once

#include "app/gui/topologymodel.h"
#include "core/metrics/runresult.h"
#include "core/sim/livesnapshot.h"

namespace edgesse::gui {

// The running variant's figures so far, in the shape the chart builders take: latency
// percentiles and delivery rate per 100 ms window, connections per node over time,
// bytes and reaps per link, and the counters.
metrics::VariantResult variantFromSnapshot(const sim::LiveSnapshot &snapshot);

// Connections per node and traffic per link, for the topology view.
TopologyLoad topologyLoadFromSnapshot(const sim::LiveSnapshot &snapshot);

} // namespace edgesse::gui
