#pragma once

#include "core/metrics/runresult.h"

#include <QSize>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <utility>
#include <vector>

QT_BEGIN_NAMESPACE
class QChart;
QT_END_NAMESPACE

namespace edgesse::charts {

// The chart set of a run, shared by the desktop app (live and after a run) and the
// headless export. Builders take a RunResult: after a run, the whole result; while
// running, a RunResult holding the live snapshot of the variant(s) so far.
enum class ChartKind {
    LatencyCdf,          // latency CDF per variant, log time axis
    LatencyPercentiles,  // p50/p90/p99/p99.9 bars per variant
    LatencyOverTime,     // p50 and p99 per 100 ms window, per variant
    ConnectionsOverTime, // connections open per node, per variant
    ReconnectsAndLoss,   // reconnects and lost events per variant
    LinkBytes,           // bytes and heartbeat bytes per link
    // Routed nodes (app/charts/routingcharts.h):
    InstancesOverTime,   // instances serving and cold-starting per routed node
    InstanceConnections, // connections open per instance
    ConnectionsMoved,    // keyed clients sent to another instance than before, running total
    AttemptsAnd503s,     // connection attempts and 503s per second at each balancer
};
QList<ChartKind> allChartKinds();
QString chartFileStem(ChartKind kind);   // "latency-cdf", ... (file names of the export)
QString chartTitle(ChartKind kind);

enum class Theme { Light, Dark };

// Labels of a variant seen in several runs: "edge · 10:15:02" (the name, then the run).
inline const QString kLabelSeparator = QStringLiteral(" · ");
// A variant's colour, by its place among result.scenarioVariants (the part of a label before
// kLabelSeparator counts), so a variant keeps its colour whichever others are run with it;
// variants the scenario does not list follow, in result order.
int variantColorIndex(const metrics::RunResult &result, const QString &name);
// The font family charts are set in: the one the platform's sans-serif resolves to.
QString fontFamily();

struct ChartOptions {
    Theme theme = Theme::Light;
    bool animations = false; // off for export and live updates
};

// A new chart of `kind` filled from `result`. Needs a QApplication (the offscreen
// platform will do for headless use).
std::unique_ptr<QChart> buildChart(ChartKind kind, const metrics::RunResult &result,
                                   const ChartOptions &options = {});

// Refreshes a chart made by buildChart(kind, ...) with newer data: line series get their
// points replaced in one call, bars their values; series are added for a variant, node or
// link seen for the first time. Cheap enough for ~10 Hz live updates.
void updateChart(QChart *chart, ChartKind kind, const metrics::RunResult &result);

// Restyles an existing chart (palette switch in the app).
void applyTheme(QChart *chart, Theme theme);

struct ExportOptions {
    QSize size{960, 560};      // logical size in pixels (and SVG user units)
    qreal pixelRatio = 2.0;    // PNG rendered at size × pixelRatio
    Theme theme = Theme::Light;
    bool png = true;
    bool svg = true;
};

// Renders `chart` (which must not be shown in a view at the time) and writes the file
// atomically (io::writeFileAtomically). False and `error` set when it cannot be written.
bool exportPng(QChart *chart, const QString &path, const ExportOptions &options, QString *error = nullptr);
bool exportSvg(QChart *chart, const QString &path, const ExportOptions &options, QString *error = nullptr);

// Writes every chart of allChartKinds() into `dir` as STEM.png and STEM.svg (per options),
// creating `dir`, as one io::OutputSet (all or none); used by the app's Export. Returns the
// written paths; on failure an empty list and `error` names the file and the reason.
QStringList exportCharts(const metrics::RunResult &result, const QString &dir,
                         const ExportOptions &options = {}, QString *error = nullptr);

// The names exportCharts() writes under `options`.
QStringList chartFileNames(const ExportOptions &options = {});
// Every chart rendered, by file name, for writing with other files as one set; nullopt (and
// `error`) when one cannot be rendered.
std::optional<std::vector<std::pair<QString, QByteArray>>> chartFiles(const metrics::RunResult &result,
                                                                      const ExportOptions &options = {},
                                                                      QString *error = nullptr);

} // namespace edgesse::charts
