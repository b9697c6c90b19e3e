#pragma once

// The building blocks charts.cpp makes its charts of, for chart kinds kept in files of their
// own (routingcharts.cpp). Axes and series are found by object name on each update; a line
// series made or touched by lineSeries() in an update survives it, the others go.

#include <QList>
#include <QPointF>
#include <QString>
#include <Qt>

QT_BEGIN_NAMESPACE
class QChart;
class QLineSeries;
QT_END_NAMESPACE

namespace edgesse::metrics {
struct RunResult;
}

namespace edgesse::charts::parts {

// The line series of `key` (made, attached to the x/y axes, on first use), labelled and
// coloured by `colorIndex`; `thin` for a secondary line.
QLineSeries *lineSeries(QChart *chart, const QString &key, const QString &label, int colorIndex, Qt::PenStyle style, bool thin);
// What a line of `chart` shows of `points` (ordered by x): at most the lowest and the highest
// point of each pixel column of the plot (every point while the chart is not laid out, as in
// an export), set only when it differs from what the line holds.
void plot(QLineSeries *line, const QList<QPointF> &points, const QChart *chart);
// A time x axis (seconds since the start) and a y axis titled `yTitle`.
void setupOverTime(QChart *chart, const QString &yTitle);
// Both axes fitted to [0, tMax] × [0, yMax]; `counts`: whole-number y ticks.
void fitTime(QChart *chart, double tMax, double yMax, bool counts);
// The warm-up (not measured) shaded under the lines.
void shadeWarmup(QChart *chart, const metrics::RunResult &result);
// A note across the plot area instead of an empty plot; empty text: none.
void setNote(QChart *chart, const QString &text);

} // namespace edgesse::charts::parts
