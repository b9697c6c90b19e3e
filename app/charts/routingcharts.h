#pragma once

// The charts of routed nodes (core/routing), from the channels sim::RoutingSeries records:
// instances running over time, connections per instance, connections moved to another
// instance, and connection attempts and 503s per second at each balancer. A result with
// no routed node gets a note saying so.

#include <QtGlobal>

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace edgesse::metrics {
struct RunResult;
}

namespace edgesse::charts::routing {

void setupInstances(QChart *chart);
void updateInstances(QChart *chart, const metrics::RunResult &result);
void setupInstanceConnections(QChart *chart);
void updateInstanceConnections(QChart *chart, const metrics::RunResult &result);
void setupMoves(QChart *chart);
void updateMoves(QChart *chart, const metrics::RunResult &result);
void setupAttempts(QChart *chart);
void updateAttempts(QChart *chart, const metrics::RunResult &result);

} // namespace edgesse::charts::routing
