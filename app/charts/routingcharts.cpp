#include "app/charts/routingcharts.h"

#include "app/charts/chartparts.h"
#include "app/charts/charts.h"
#include "core/metrics/runresult.h"
#include "core/sim/routingseries.h"

#include <QChart>
#include <QLineSeries>

#include <algorithm>
#include <functional>
#include <optional>

namespace edgesse::charts::routing {

using metrics::RunResult;
using metrics::VariantResult;
using sim::RoutingSeries;

namespace {

const QString kNoRoutedNode = QStringLiteral("No routed node: give one instances, autoscale, faults or accept_rate");

struct Extent {
    double tMax = 0;
    double yMax = 0;
    int lines = 0;
    void take(const QList<QPointF> &points)
    {
        ++lines;
        for (const QPointF &p : points) {
            tMax = std::max(tMax, p.x());
            yMax = std::max(yMax, p.y());
        }
    }
};

// The node (or node#slot) of every channel of `v` named `prefix` + it.
QStringList channelsOf(const VariantResult &v, const QString &prefix)
{
    QStringList names;
    for (const metrics::SeriesChannel &c : v.timeSeries.channels())
        if (c.name.startsWith(prefix))
            names << c.name.mid(prefix.size());
    return names;
}

QString labelFor(const RunResult &result, const VariantResult &v, const QString &what)
{
    return result.variants.size() > 1 ? v.name + QStringLiteral(" · ") + what : what;
}

// The lines of the channels named `prefix` + node, labelled node + `suffix`; `flatToo`: a line
// that stays at zero is drawn as well.
struct Lines {
    QString prefix;
    QString suffix;
    Qt::PenStyle style = Qt::SolidLine;
    bool thin = false;
    bool flatToo = true;
};

using PointMap = std::function<QList<QPointF>(const VariantResult &, QList<QPointF>)>;

// One line per channel of `lines` in each variant, its points mapped by `map`; a variant keeps
// its colour (charts::variantColorIndex) for its first node, its later nodes (or instances)
// the colours after every variant's.
void drawLines(QChart *chart, const RunResult &result, const Lines &lines, Extent &extent, const PointMap &map)
{
    const int variants = std::max<int>(1, int(result.variants.size()));
    for (const VariantResult &v : result.variants) {
        int nth = 0;
        for (const QString &node : channelsOf(v, lines.prefix)) {
            const QList<QPointF> points = map(v, v.timeSeries.points(lines.prefix + node));
            const int colour = variantColorIndex(result, v.name) + variants * nth++;
            if (!lines.flatToo && std::none_of(points.begin(), points.end(), [](const QPointF &p) { return p.y() > 0; }))
                continue;
            const QString key = lines.prefix + v.name + QLatin1Char('/') + node;
            parts::plot(parts::lineSeries(chart, key, labelFor(result, v, node + lines.suffix), colour, lines.style, lines.thin), points,
                        chart);
            extent.take(points);
        }
    }
}

QList<QPointF> asIs(const VariantResult &, QList<QPointF> points)
{
    return points;
}

// Counts per window turned into counts per second.
QList<QPointF> perSecond(const VariantResult &v, QList<QPointF> points)
{
    const double seconds = std::chrono::duration<double>(v.timeSeries.viewInterval()).count();
    for (QPointF &p : points)
        p.setY(seconds > 0 ? p.y() / seconds : p.y());
    return points;
}

// A running total of counts per window.
QList<QPointF> cumulative(const VariantResult &, QList<QPointF> points)
{
    double total = 0;
    for (QPointF &p : points) {
        total += p.y();
        p.setY(total);
    }
    return points;
}

void finish(QChart *chart, const RunResult &result, const Extent &extent, const QString &quiet)
{
    parts::fitTime(chart, extent.tMax, extent.yMax, true);
    parts::shadeWarmup(chart, result);
    parts::setNote(chart, extent.lines == 0 ? kNoRoutedNode : extent.yMax <= 0 ? quiet : QString());
}

// The lines of one channel, and for charts that have them, the dashed lines of a second one
// beside them (cold starts beside instances, 503s beside attempts), fitted and noted as one.
void drawChart(QChart *chart, const RunResult &result, const Lines &main, const std::optional<Lines> &beside, const QString &quiet,
               const PointMap &map)
{
    Extent extent;
    drawLines(chart, result, main, extent, map);
    if (beside)
        drawLines(chart, result, *beside, extent, map);
    finish(chart, result, extent, quiet);
}

const QString kInstancesPrefix = RoutingSeries::instances(QString());
const QString kStartingPrefix = RoutingSeries::starting(QString());
const QString kSlotPrefix = RoutingSeries::instanceConnections(QString(), 0).section(QLatin1Char(':'), 0, 0) + QLatin1Char(':');
const QString kMovedPrefix = RoutingSeries::moved(QString());
const QString kAttemptsPrefix = RoutingSeries::attempts(QString());
const QString kRejectedPrefix = RoutingSeries::rejected(QString());

} // namespace

void setupInstances(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Instances"));
}

void updateInstances(QChart *chart, const RunResult &result)
{
    drawChart(chart, result, {kInstancesPrefix, QStringLiteral(" serving")},
              Lines{kStartingPrefix, QStringLiteral(" cold-starting"), Qt::DashLine, true, false}, QStringLiteral("No instance running"),
              asIs);
}

void setupInstanceConnections(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Open connections"));
}

void updateInstanceConnections(QChart *chart, const RunResult &result)
{
    drawChart(chart, result, {kSlotPrefix, QString()}, std::nullopt, QStringLiteral("No connection reached an instance"), asIs);
}

void setupMoves(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Connections moved (running total)"));
}

void updateMoves(QChart *chart, const RunResult &result)
{
    drawChart(chart, result, {kMovedPrefix, QString()}, std::nullopt, QStringLiteral("No client moved to another instance"), cumulative);
}

void setupAttempts(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Per second"));
}

void updateAttempts(QChart *chart, const RunResult &result)
{
    drawChart(chart, result, {kAttemptsPrefix, QStringLiteral(" attempts")},
              Lines{kRejectedPrefix, QStringLiteral(" 503s"), Qt::DashLine, false, false}, QStringLiteral("No connection attempt"), perSecond);
}

} // namespace edgesse::charts::routing
