#include "app/charts/routingcharts.h"

#include "app/charts/chartparts.h"
#include "app/charts/charts.h"
#include "core/metrics/runresult.h"
#include "core/sim/routingseries.h"

#include <QChart>
#include <QLineSeries>

#include <algorithm>
#include <functional>

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

// One line per channel named `prefix` + node in each variant, its points mapped by `map`
// (`flatToo`: a line that stays at zero is drawn as well); a variant keeps its colour (charts::variantColorIndex) for its first node, its
// later nodes (or instances) the colours after every variant's.
void drawLines(QChart *chart, const RunResult &result, const QString &prefix, const QString &suffix, Qt::PenStyle style, bool thin,
               bool flatToo, Extent &extent, const std::function<QList<QPointF>(const VariantResult &, QList<QPointF>)> &map)
{
    const int variants = std::max<int>(1, int(result.variants.size()));
    for (const VariantResult &v : result.variants) {
        int nth = 0;
        for (const QString &node : channelsOf(v, prefix)) {
            const QList<QPointF> points = map(v, v.timeSeries.points(prefix + node));
            const int colour = variantColorIndex(result, v.name) + variants * nth++;
            if (!flatToo && std::none_of(points.begin(), points.end(), [](const QPointF &p) { return p.y() > 0; }))
                continue;
            parts::lineSeries(chart, prefix + v.name + QLatin1Char('/') + node, labelFor(result, v, node + suffix), colour, style, thin)
                ->replace(points);
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
    Extent extent;
    drawLines(chart, result, kInstancesPrefix, QStringLiteral(" serving"), Qt::SolidLine, false, true, extent, asIs);
    Extent starting;
    drawLines(chart, result, kStartingPrefix, QStringLiteral(" cold-starting"), Qt::DashLine, true, false, starting, asIs);
    extent.yMax = std::max(extent.yMax, starting.yMax);
    finish(chart, result, extent, QStringLiteral("No instance running"));
}

void setupInstanceConnections(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Open connections"));
}

void updateInstanceConnections(QChart *chart, const RunResult &result)
{
    Extent extent;
    drawLines(chart, result, kSlotPrefix, QString(), Qt::SolidLine, false, true, extent, asIs);
    finish(chart, result, extent, QStringLiteral("No connection reached an instance"));
}

void setupMoves(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Connections moved (running total)"));
}

void updateMoves(QChart *chart, const RunResult &result)
{
    Extent extent;
    drawLines(chart, result, kMovedPrefix, QString(), Qt::SolidLine, false, true, extent, cumulative);
    finish(chart, result, extent, QStringLiteral("No client moved to another instance"));
}

void setupAttempts(QChart *chart)
{
    parts::setupOverTime(chart, QStringLiteral("Per second"));
}

void updateAttempts(QChart *chart, const RunResult &result)
{
    Extent extent;
    drawLines(chart, result, kAttemptsPrefix, QStringLiteral(" attempts"), Qt::SolidLine, false, true, extent, perSecond);
    Extent rejected;
    drawLines(chart, result, kRejectedPrefix, QStringLiteral(" 503s"), Qt::DashLine, false, false, rejected, perSecond);
    extent.yMax = std::max(extent.yMax, rejected.yMax);
    finish(chart, result, extent, QStringLiteral("No connection attempt"));
}

} // namespace edgesse::charts::routing
