#pragma once

#include <QString>

namespace edgesse::metrics {
struct RunResult;
}

namespace edgesse::cli {

// The table `edgesse run` prints on stdout: one row per variant (p50/p99 latency, time to
// first event, reconnects, lost, origin connections, overhead p99, cost), then one line
// per warning (overhead too high to trust the numbers).
QString summaryTable(const metrics::RunResult &result);

} // namespace edgesse::cli
