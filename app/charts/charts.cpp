#include "app/charts/charts.h"

#include "app/charts/chartparts.h"
#include "app/charts/routingcharts.h"
#include "app/runs/comparison.h"

#include "core/io/outputset.h"
#include "core/scenario/units.h"

#include <QAreaSeries>
#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QBuffer>
#include <QChart>
#include <QDir>
#include <QFile>
#include <QGraphicsLayout>
#include <QFontInfo>
#include <QGraphicsScene>
#include <QGraphicsSimpleTextItem>
#include <QHorizontalStackedBarSeries>
#include <QImage>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QSvgGenerator>
#include <QScopeGuard>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgesse::charts {

using metrics::RunResult;
using metrics::VariantResult;

namespace {

// A variant as legends and categories name it, with what its streams speak: "edge · h3".
QString legendName(const VariantResult &v)
{
    const QString protocol = runs::protocolLabel(v);
    return protocol.isEmpty() ? v.name : v.name + QStringLiteral(" · ") + protocol;
}

// Object names: stable keys for finding a chart's axes and series on update.
const QString kAxisX = QStringLiteral("x");
const QString kAxisY = QStringLiteral("y");
const char *const kColorIndex = "edgesseColorIndex";
const char *const kKind = "edgesseChartKind";

// Okabe–Ito, readable for colour-blind readers; lighter twins for the dark palette.
const QList<QColor> kLightColors{QColor(0x00, 0x72, 0xB2), QColor(0xD5, 0x5E, 0x00), QColor(0x00, 0x9E, 0x73),
                                 QColor(0xCC, 0x79, 0xA7), QColor(0xE6, 0x9F, 0x00), QColor(0x56, 0xB4, 0xE9),
                                 QColor(0x44, 0x44, 0x44)};
const QList<QColor> kDarkColors{QColor(0x56, 0xB4, 0xE9), QColor(0xF0, 0x8A, 0x3C), QColor(0x2E, 0xD1, 0x9E),
                                QColor(0xE6, 0x9C, 0xC6), QColor(0xF0, 0xE4, 0x42), QColor(0x9E, 0xC9, 0xF2),
                                QColor(0xDD, 0xDD, 0xDD)};

// Bar sets that stand for a measure rather than a variant get colours of their own, so
// they are not mistaken for the variants' colours used across the other charts.
QColor measureColor(Theme theme, const QString &measure)
{
    const bool dark = theme == Theme::Dark;
    if (measure == QLatin1String("reconnects"))
        return dark ? QColor(0xB3, 0x9D, 0xDB) : QColor(0x6A, 0x4C, 0x9C);
    if (measure == QLatin1String("lost"))
        return dark ? QColor(0xF2, 0x6D, 0x5B) : QColor(0xC0, 0x39, 0x2B);
    if (measure == QLatin1String("heartbeat"))
        return dark ? QColor(0xF0, 0xC0, 0x40) : QColor(0xE6, 0x9F, 0x00);
    return dark ? QColor(0x8A, 0x9B, 0xAE) : QColor(0x6F, 0x80, 0x94); // payload
}

struct Palette {
    QColor background;
    QColor plot;
    QColor text;
    QColor mutedText;
    QColor grid;
    QColor axisLine;
    const QList<QColor> *series;
};

Palette paletteFor(Theme theme)
{
    if (theme == Theme::Dark)
        return {QColor(0x1E, 0x1F, 0x22), QColor(0x26, 0x28, 0x2C), QColor(0xEC, 0xEC, 0xEC),
                QColor(0xB4, 0xB8, 0xBE), QColor(0x3C, 0x40, 0x46), QColor(0x6A, 0x70, 0x78), &kDarkColors};
    return {QColor(Qt::white), QColor(Qt::white), QColor(0x20, 0x20, 0x20), QColor(0x55, 0x55, 0x55),
            QColor(0xE3, 0xE3, 0xE3), QColor(0x99, 0x99, 0x99), &kLightColors};
}

QFont font(int pixelSize, bool bold = false)
{
    QFont f(fontFamily());
    f.setPixelSize(pixelSize);
    f.setBold(bold);
    return f;
}

} // namespace

QString fontFamily()
{
    // The family the generic "Sans Serif" resolves to here, so an SVG names a real font.
    static const QString family = QFontInfo(QFont(QStringLiteral("Sans Serif"))).family();
    return family;
}

int variantColorIndex(const RunResult &result, const QString &name)
{
    qsizetype index = result.scenarioVariants.indexOf(name);
    if (index < 0)
        index = result.scenarioVariants.indexOf(name.section(kLabelSeparator, 0, 0));
    if (index >= 0)
        return int(index);
    int position = int(result.scenarioVariants.size());
    for (const VariantResult &v : result.variants) {
        if (v.name == name)
            return position;
        if (!result.scenarioVariants.contains(v.name.section(kLabelSeparator, 0, 0)))
            ++position;
    }
    return position;
}

namespace parts {

QColor seriesColor(Theme theme, int index)
{
    const QList<QColor> &colors = *paletteFor(theme).series;
    return colors[index % colors.size()];
}

Theme themeOf(const QChart *chart)
{
    return chart->property("edgesseTheme").toInt() == int(Theme::Dark) ? Theme::Dark : Theme::Light;
}

QAbstractAxis *axis(QChart *chart, const QString &name)
{
    for (QAbstractAxis *a : chart->axes()) {
        if (a->objectName() == name)
            return a;
    }
    return nullptr;
}

template <typename Series>
Series *findSeries(QChart *chart, const QString &key)
{
    for (QAbstractSeries *s : chart->series()) {
        if (s->objectName() == key)
            return qobject_cast<Series *>(s);
    }
    return nullptr;
}

void styleSeries(QAbstractSeries *series, Theme theme)
{
    const int index = series->property(kColorIndex).toInt();
    const QColor color = seriesColor(theme, index);
    if (auto *line = qobject_cast<QLineSeries *>(series)) {
        QPen pen = line->pen();
        pen.setColor(color);
        pen.setWidthF(line->property("edgesseThin").toBool() ? 1.6 : 2.4);
        pen.setCapStyle(Qt::RoundCap);
        pen.setJoinStyle(Qt::RoundJoin);
        line->setPen(pen);
    }
}

void styleBarSet(QBarSet *set, Theme theme, int index)
{
    if (set->property(kColorIndex).isValid())
        index = set->property(kColorIndex).toInt();
    const QString measure = set->property("edgesseMeasure").toString();
    const QColor color = measure.isEmpty() ? seriesColor(theme, index) : measureColor(theme, measure);
    set->setColor(color);
    set->setBorderColor(color);
    set->setLabelColor(paletteFor(theme).text);
    set->setLabelFont(font(11));
}

void styleAxis(QAbstractAxis *a, const Palette &p)
{
    a->setLabelsFont(font(12));
    a->setLabelsColor(p.mutedText);
    a->setTitleFont(font(13, true));
    a->setTitleBrush(p.text);
    a->setGridLineColor(p.grid);
    // Minor lines (the log axis' 2..9) solid and fainter than the major ones.
    QPen minor(p.background.lightness() < 128 ? p.grid.darker(125) : p.grid.lighter(106));
    minor.setWidthF(0.8);
    a->setMinorGridLinePen(minor);
    a->setLinePenColor(p.axisLine);
    a->setShadesVisible(false);
}

QLineSeries *lineSeries(QChart *chart, const QString &key, const QString &label, int colorIndex,
                        Qt::PenStyle style = Qt::SolidLine, bool thin = false)
{
    const QVariant generation = chart->property("edgesseGeneration");
    if (auto *existing = findSeries<QLineSeries>(chart, key)) {
        existing->setProperty("edgesseGeneration", generation);
        if (existing->name() != label)
            existing->setName(label);
        if (existing->property(kColorIndex).toInt() != colorIndex || existing->pen().style() != style) {
            existing->setProperty(kColorIndex, colorIndex);
            QPen pen = existing->pen();
            pen.setStyle(style);
            existing->setPen(pen);
            styleSeries(existing, themeOf(chart));
        }
        return existing;
    }
    auto *series = new QLineSeries(chart);
    series->setProperty("edgesseGeneration", generation);
    series->setObjectName(key);
    series->setName(label);
    series->setProperty(kColorIndex, colorIndex);
    series->setProperty("edgesseThin", thin);
    QPen pen;
    pen.setStyle(style);
    series->setPen(pen);
    styleSeries(series, themeOf(chart));
    chart->addSeries(series);
    series->attachAxis(axis(chart, kAxisX));
    series->attachAxis(axis(chart, kAxisY));
    return series;
}

// Points replaced only when they changed: replace() recomputes the line's whole geometry.
void setPoints(QXYSeries *series, const QList<QPointF> &points)
{
    if (series->points() != points)
        series->replace(points);
}

// At most the lowest and the highest point of each pixel column of the plot, in time order
// (points: ordered by x). A line is drawn a segment at a time and a live run adds ten
// points a second to each, so a long run would otherwise stroke many more segments than the
// plot has pixels. Peaks are kept; a chart not laid out yet (an export) keeps every point.
QList<QPointF> perPixelColumn(const QList<QPointF> &points, const QChart *chart)
{
    const double columns = std::floor(chart->plotArea().width());
    if (columns < 1 || double(points.size()) <= 2 * columns)
        return points;
    const double x0 = points.first().x();
    const double span = points.last().x() - x0;
    if (!(span > 0))
        return points;
    const auto column = [&](const QPointF &p) { return std::floor((p.x() - x0) / span * columns); };
    QList<QPointF> kept;
    kept.reserve(qsizetype(2 * columns) + 2);
    for (qsizetype i = 0; i < points.size();) {
        const double c = column(points[i]);
        qsizetype lo = i;
        qsizetype hi = i;
        qsizetype j = i;
        for (; j < points.size() && column(points[j]) == c; ++j) {
            lo = points[j].y() < points[lo].y() ? j : lo;
            hi = points[j].y() > points[hi].y() ? j : hi;
        }
        kept.append(points[std::min(lo, hi)]);
        if (lo != hi)
            kept.append(points[std::max(lo, hi)]);
        i = j;
    }
    return kept;
}

void plot(QLineSeries *line, const QList<QPointF> &points, const QChart *chart)
{
    setPoints(line, perPixelColumn(points, chart));
}

// A range with a little room above, and round numbers.
double niceCeiling(double value)
{
    if (!(value > 0))
        return 1;
    const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
    for (double step : {1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
        if (value <= step * magnitude)
            return step * magnitude;
    }
    return 10 * magnitude;
}

// Every change of a shown axis' range or ticks relayouts its chart (labels, grid, every
// series' geometry), so a range is worked out here in full and then set once, and only when
// it differs. Round numbers as QValueAxis::applyNiceNumbers() makes them, from a fixed tick
// count (that function feeds its last result back in, and sets the range at each step).
constexpr int kTicks = 6;

double niceNumber(double x, bool ceiling)
{
    const double z = std::pow(10.0, std::floor(std::log10(x)));
    const double q = x / z;
    if (ceiling)
        return (q <= 1.0 ? 1.0 : q <= 2.0 ? 2.0 : q <= 5.0 ? 5.0 : 10.0) * z;
    return (q < 1.5 ? 1.0 : q < 3.0 ? 2.0 : q < 7.0 ? 5.0 : 10.0) * z;
}

struct AxisRange {
    double min;
    double max;
    int ticks;
};

AxisRange niceRange(double min, double max)
{
    if (!(max > min))
        max = min + 1;
    const double step = niceNumber(niceNumber(max - min, true) / (kTicks - 1), false);
    const double lo = std::floor(min / step);
    const double hi = std::ceil(max / step);
    return {lo * step, hi * step, int(hi - lo) + 1};
}

void applyRange(QValueAxis *a, const AxisRange &range)
{
    if (a->min() != range.min || a->max() != range.max)
        a->setRange(range.min, range.max);
    if (a->tickCount() != range.ticks)
        a->setTickCount(range.ticks);
}

void setLabelFormat(QValueAxis *a, const QString &format)
{
    if (a->labelFormat() != format)
        a->setLabelFormat(format);
}

void setValueRange(QChart *chart, const QString &name, double min, double max)
{
    if (auto *a = qobject_cast<QValueAxis *>(axis(chart, name)))
        applyRange(a, niceRange(min, niceCeiling(max * 1.05)));
}

// The longest warm-up of the result's variants, in seconds (0 when none is known).
double warmupSeconds(const RunResult &result)
{
    double longest = 0;
    for (const VariantResult &v : result.variants)
        if (const auto d = scenario::units::parseDuration(v.resolved.value(QLatin1String("warmup")).toString()))
            longest = std::max(longest, std::chrono::duration<double>(*d).count());
    return longest;
}

// The warm-up (not measured) shaded across the plot, under the lines.
void shadeWarmup(QChart *chart, const RunResult &result)
{
    const double warmup = warmupSeconds(result);
    auto *area = findSeries<QAreaSeries>(chart, QStringLiteral("warmup"));
    auto *y = qobject_cast<QValueAxis *>(axis(chart, kAxisY));
    if (warmup <= 0 || !y) {
        if (area) {
            chart->removeSeries(area);
            delete area;
        }
        return;
    }
    if (!area) {
        area = new QAreaSeries(new QLineSeries(chart), new QLineSeries(chart));
        area->setObjectName(QStringLiteral("warmup"));
        area->setName(QStringLiteral("warm-up (not measured)"));
        area->setPen(Qt::NoPen);
        chart->addSeries(area);
        area->attachAxis(axis(chart, kAxisX));
        area->attachAxis(y);
    }
    const bool dark = themeOf(chart) == Theme::Dark;
    area->setBrush(dark ? QColor(255, 255, 255, 22) : QColor(0, 0, 0, 16));
    setPoints(area->upperSeries(), {QPointF(0, y->max()), QPointF(warmup, y->max())});
    setPoints(area->lowerSeries(), {QPointF(0, 0), QPointF(warmup, 0)});
}

// Counts get whole-number ticks: every integer up to 8, else a nice step of at least 1.
void setCountRange(QChart *chart, const QString &name, double max)
{
    auto *a = qobject_cast<QValueAxis *>(axis(chart, name));
    if (!a)
        return;
    setLabelFormat(a, QStringLiteral("%.0f"));
    const double top = std::max(1.0, std::ceil(max * 1.05));
    applyRange(a, top <= 8 ? AxisRange{0, top, int(top) + 1} : niceRange(0, niceCeiling(top)));
}

// "Nothing happened" written across the plot area instead of an empty plot; empty: none.
void setNote(QChart *chart, const QString &text)
{
    QGraphicsSimpleTextItem *note = nullptr;
    for (QGraphicsItem *child : chart->childItems())
        if (child->data(0).toString() == QLatin1String("edgesseNote"))
            note = static_cast<QGraphicsSimpleTextItem *>(child);
    if (!note) {
        if (text.isEmpty())
            return;
        note = new QGraphicsSimpleTextItem(chart);
        note->setData(0, QStringLiteral("edgesseNote"));
        note->setZValue(100);
        QObject::connect(chart, &QChart::plotAreaChanged, chart, [note](const QRectF &area) {
            const QRectF box = note->boundingRect();
            note->setPos(area.center() - QPointF(box.width() / 2, box.height() / 2));
        });
    }
    note->setVisible(!text.isEmpty());
    QFont f(fontFamily());
    f.setPixelSize(15);
    f.setItalic(true);
    const QBrush brush(paletteFor(themeOf(chart)).mutedText);
    if (note->text() == text && note->font() == f && note->brush() == brush)
        return;
    note->setText(text);
    note->setFont(f);
    note->setBrush(brush);
    const QRectF box = note->boundingRect();
    note->setPos(chart->plotArea().center() - QPointF(box.width() / 2, box.height() / 2));
}

struct Unit {
    double divisor;
    QString name;
};

Unit byteUnit(double maxBytes)
{
    if (maxBytes >= 1e9)
        return {1e9, QStringLiteral("GB")};
    if (maxBytes >= 1e6)
        return {1e6, QStringLiteral("MB")};
    if (maxBytes >= 1e3)
        return {1e3, QStringLiteral("KB")};
    return {1, QStringLiteral("bytes")};
}

QValueAxis *valueAxis(QChart *chart, const QString &name, const QString &title, Qt::Alignment alignment)
{
    auto *a = new QValueAxis(chart);
    a->setObjectName(name);
    a->setTitleText(title);
    a->setLabelFormat(QStringLiteral("%g"));
    a->setTickCount(6);
    chart->addAxis(a, alignment);
    return a;
}

// ---------------------------------------------------------------- the charts

void setupLatencyCdf(QChart *chart)
{
    auto *x = new QLogValueAxis(chart);
    x->setObjectName(kAxisX);
    x->setTitleText(QStringLiteral("Latency, publish to receipt (ms, log scale)"));
    x->setBase(10);
    x->setLabelFormat(QStringLiteral("%g"));
    x->setMinorTickCount(8);
    chart->addAxis(x, Qt::AlignBottom);
    auto *y = valueAxis(chart, kAxisY, QStringLiteral("Events delivered within (%)"), Qt::AlignLeft);
    y->setRange(0, 100);
    y->setTickCount(6);
}

void updateLatencyCdf(QChart *chart, const RunResult &result)
{
    double lo = std::numeric_limits<double>::max();
    double hi = 0;
    for (const VariantResult &v : result.variants) {
        QList<QPointF> points;
        points.reserve(v.latencyCdf.size() + 1);
        for (const QPointF &p : v.latencyCdf) {
            const double x = std::max(p.x(), 0.001); // a log axis needs x > 0
            if (points.isEmpty())
                points.append(QPointF(x, 0)); // start the curve on the axis
            points.append(QPointF(x, p.y() * 100.0));
            // The axis starts at the decade of p0.1, so a stray fast sample does not squash
            // the curves into the right half.
            if (p.y() >= 0.001)
                lo = std::min(lo, x);
            hi = std::max(hi, x);
        }
        setPoints(lineSeries(chart, QStringLiteral("cdf:") + v.name, legendName(v), variantColorIndex(result, v.name)), points);
    }
    auto *x = qobject_cast<QLogValueAxis *>(axis(chart, kAxisX));
    setNote(chart, hi <= 0 ? QStringLiteral("No event delivered yet") : QString());
    if (hi <= 0) {
        x->setRange(0.1, 1000);
        return;
    }
    x->setRange(std::pow(10.0, std::floor(std::log10(lo))), std::pow(10.0, std::ceil(std::log10(hi * 1.0001))));
}

const QList<std::pair<QString, double metrics::LatencySummary::*>> kPercentiles{
    {QStringLiteral("p50"), &metrics::LatencySummary::p50},
    {QStringLiteral("p90"), &metrics::LatencySummary::p90},
    {QStringLiteral("p99"), &metrics::LatencySummary::p99},
    {QStringLiteral("p99.9"), &metrics::LatencySummary::p999},
    {QStringLiteral("max"), &metrics::LatencySummary::max},
};

// Bar charts: one set per key, values by category; kept in place when the layout is
// unchanged, rebuilt otherwise (a handful of bars, so either is cheap).
void fillBars(QChart *chart, QAbstractBarSeries *series, const QStringList &categories,
              const QList<std::pair<QString, QList<qreal>>> &sets, const QList<int> &colors = {})
{
    bool sameLayout = series->count() == sets.size();
    for (qsizetype i = 0; sameLayout && i < sets.size(); ++i)
        sameLayout = series->barSets().at(i)->label() == sets[i].first && series->barSets().at(i)->count() == sets[i].second.size();
    if (!sameLayout) {
        series->clear();
        for (qsizetype i = 0; i < sets.size(); ++i) {
            auto *set = new QBarSet(sets[i].first);
            set->setProperty("edgesseMeasure", series->property("edgesseMeasures").toStringList().value(i));
            if (i < colors.size())
                set->setProperty(kColorIndex, colors.at(i));
            set->append(sets[i].second);
            styleBarSet(set, themeOf(chart), int(i));
            series->append(set);
        }
    } else {
        for (qsizetype i = 0; i < sets.size(); ++i) {
            QBarSet *set = series->barSets().at(i);
            for (qsizetype j = 0; j < sets[i].second.size(); ++j) {
                if (set->at(j) != sets[i].second[j])
                    set->replace(j, sets[i].second[j]);
            }
        }
    }
    auto *categoryAxis = qobject_cast<QBarCategoryAxis *>(
        axis(chart, series->type() == QAbstractSeries::SeriesTypeHorizontalStackedBar ? kAxisY : kAxisX));
    if (categoryAxis->categories() != categories) {
        categoryAxis->clear();
        categoryAxis->append(categories);
    }
}

QAbstractBarSeries *setupBars(QChart *chart, QAbstractBarSeries *series, const QString &valueTitle, bool horizontal)
{
    series->setObjectName(QStringLiteral("bars"));
    series->setLabelsVisible(true);
    series->setLabelsPosition(horizontal ? QAbstractBarSeries::LabelsCenter : QAbstractBarSeries::LabelsOutsideEnd);
    series->setLabelsPrecision(4);
    // Upright labels of neighbouring bars run into each other once variants are close.
    if (!horizontal)
        series->setLabelsAngle(-90);
    chart->addSeries(series);
    auto *categories = new QBarCategoryAxis(chart);
    categories->setObjectName(horizontal ? kAxisY : kAxisX);
    auto *values = new QValueAxis(chart);
    values->setObjectName(horizontal ? kAxisX : kAxisY);
    values->setTitleText(valueTitle);
    values->setLabelFormat(QStringLiteral("%g"));
    values->setTickCount(6);
    chart->addAxis(categories, horizontal ? Qt::AlignLeft : Qt::AlignBottom);
    chart->addAxis(values, horizontal ? Qt::AlignBottom : Qt::AlignLeft);
    series->attachAxis(categories);
    series->attachAxis(values);
    return series;
}

void setupPercentiles(QChart *chart)
{
    setupBars(chart, new QBarSeries(chart), QStringLiteral("Latency (ms)"), false);
}

void updatePercentiles(QChart *chart, const RunResult &result)
{
    QStringList categories;
    for (const auto &[label, member] : kPercentiles)
        categories.append(label);
    QList<std::pair<QString, QList<qreal>>> sets;
    QList<int> colors;
    double top = 0;
    for (const VariantResult &v : result.variants) {
        colors.append(variantColorIndex(result, v.name));
        QList<qreal> values;
        for (const auto &[label, member] : kPercentiles) {
            values.append(std::round(v.latency.*member * 100.0) / 100.0);
            top = std::max(top, v.latency.*member);
        }
        sets.append({legendName(v), values});
    }
    fillBars(chart, findSeries<QAbstractBarSeries>(chart, QStringLiteral("bars")), categories, sets, colors);
    setValueRange(chart, kAxisY, 0, top * 1.08);
    setNote(chart, top <= 0 ? QStringLiteral("No event delivered yet") : QString());
}

void setupOverTime(QChart *chart, const QString &yTitle)
{
    valueAxis(chart, kAxisX, QStringLiteral("Time since start (s)"), Qt::AlignBottom);
    valueAxis(chart, kAxisY, yTitle, Qt::AlignLeft);
}

void fitTime(QChart *chart, double tMax, double yMax, bool counts = false)
{
    if (auto *x = qobject_cast<QValueAxis *>(axis(chart, kAxisX)))
        applyRange(x, niceRange(0, tMax > 0 ? tMax : 1));
    if (counts)
        setCountRange(chart, kAxisY, yMax);
    else
        setValueRange(chart, kAxisY, 0, yMax > 0 ? yMax : 1);
}

} // namespace parts

using namespace parts;

namespace {

void updateLatencyOverTime(QChart *chart, const RunResult &result)
{
    double tMax = 0;
    double yMax = 0;
    const bool several = result.variants.size() > 1;
    for (const VariantResult &v : result.variants) {
        const int index = variantColorIndex(result, v.name);
        const QString prefix = several ? v.name + QStringLiteral(" ") : QString();
        const QList<QPointF> p50 = v.timeSeries.points(metrics::series::kLatencyP50);
        const QList<QPointF> p99 = v.timeSeries.points(metrics::series::kLatencyP99);
        plot(lineSeries(chart, QStringLiteral("p99:") + v.name, prefix + QStringLiteral("p99"), index, Qt::SolidLine), p99, chart);
        plot(lineSeries(chart, QStringLiteral("p50:") + v.name, prefix + QStringLiteral("p50"), index, Qt::DashLine, true), p50,
             chart);
        for (const QList<QPointF> *points : {&p50, &p99}) {
            for (const QPointF &p : *points) {
                tMax = std::max(tMax, p.x());
                yMax = std::max(yMax, p.y());
            }
        }
    }
    fitTime(chart, tMax, yMax);
    shadeWarmup(chart, result);
    setNote(chart, yMax <= 0 ? QStringLiteral("No event delivered yet") : QString());
}

void updateConnectionsOverTime(QChart *chart, const RunResult &result)
{
    // A colour a line (legend markers cannot show dash patterns); with several variants,
    // a line style a variant as a second cue.
    double tMax = 0;
    double yMax = 0;
    const bool several = result.variants.size() > 1;
    const QList<Qt::PenStyle> styles{Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine};
    int lineIndex = 0;
    int variantIndex = 0;
    for (const VariantResult &v : result.variants) {
        for (const metrics::SeriesChannel &channel : v.timeSeries.channels()) {
            if (!channel.name.startsWith(metrics::series::kConnectionsPrefix))
                continue;
            const QString node = channel.name.mid(metrics::series::kConnectionsPrefix.size());
            const QList<QPointF> points = v.timeSeries.points(channel.name);
            const QString label = several ? v.name + QStringLiteral(" · ") + node : node;
            plot(lineSeries(chart, QStringLiteral("conn:") + v.name + QLatin1Char('/') + node, label, lineIndex++,
                            styles[variantIndex % styles.size()]),
                 points, chart);
            for (const QPointF &p : points) {
                tMax = std::max(tMax, p.x());
                yMax = std::max(yMax, p.y());
            }
        }
        ++variantIndex;
    }
    fitTime(chart, tMax, yMax, true);
    shadeWarmup(chart, result);
    setNote(chart, yMax <= 0 ? QStringLiteral("No connection open") : QString());
}

void setupReconnects(QChart *chart)
{
    QAbstractBarSeries *series = setupBars(chart, new QBarSeries(chart), QStringLiteral("Count over the run"), false);
    series->setProperty("edgesseMeasures", QStringList{QStringLiteral("reconnects"), QStringLiteral("lost")});
}

void updateReconnects(QChart *chart, const RunResult &result)
{
    QStringList categories;
    QList<qreal> reconnects;
    QList<qreal> lost;
    for (const VariantResult &v : result.variants) {
        categories.append(legendName(v));
        reconnects.append(qreal(v.streams.reconnects));
        lost.append(qreal(v.events.lost));
    }
    fillBars(chart, findSeries<QAbstractBarSeries>(chart, QStringLiteral("bars")), categories,
             {{QStringLiteral("Reconnects"), reconnects}, {QStringLiteral("Lost events"), lost}});
    double top = 0;
    for (qreal value : reconnects + lost)
        top = std::max(top, value);
    setCountRange(chart, kAxisY, top);
    setNote(chart, top <= 0 && !result.variants.empty() ? QStringLiteral("Nothing happened: no reconnect, no lost event")
                                                       : QString());
}

void setupLinkBytes(QChart *chart)
{
    QAbstractBarSeries *series = setupBars(chart, new QHorizontalStackedBarSeries(chart), QStringLiteral("Bytes"), true);
    series->setProperty("edgesseMeasures", QStringList{QStringLiteral("payload"), QStringLiteral("heartbeat")});
    // Heartbeat slices are often too thin for a label; the category names carry the share.
    series->setLabelsVisible(false);
}

void updateLinkBytes(QChart *chart, const RunResult &result)
{
    const bool several = result.variants.size() > 1;
    QStringList categories;
    QList<double> payload;
    QList<double> heartbeat;
    double top = 0;
    for (const VariantResult &v : result.variants) {
        for (const metrics::LinkResult &l : v.links) {
            const double hb = double(std::min(l.heartbeatBytes, l.totalBytes()));
            const double share = l.totalBytes() ? 100.0 * hb / double(l.totalBytes()) : 0.0;
            categories.append((several ? v.name + QStringLiteral(": ") + l.name : l.name)
                              + QStringLiteral(" · heartbeats %1%").arg(QString::number(share, 'g', share >= 10 ? 3 : 2)));
            heartbeat.append(hb);
            payload.append(double(l.totalBytes()) - hb);
            top = std::max(top, double(l.totalBytes()));
        }
    }
    const Unit unit = byteUnit(top);
    QList<qreal> payloadScaled;
    QList<qreal> heartbeatScaled;
    for (qsizetype i = 0; i < payload.size(); ++i) {
        payloadScaled.append(std::round(payload[i] / unit.divisor * 100.0) / 100.0);
        heartbeatScaled.append(std::round(heartbeat[i] / unit.divisor * 100.0) / 100.0);
    }
    fillBars(chart, findSeries<QAbstractBarSeries>(chart, QStringLiteral("bars")), categories,
             {{QStringLiteral("Events and headers"), payloadScaled}, {QStringLiteral("Heartbeats"), heartbeatScaled}});
    axis(chart, kAxisX)->setTitleText(QStringLiteral("Bytes over the run, both directions (%1)").arg(unit.name));
    setValueRange(chart, kAxisX, 0, std::max(top / unit.divisor * 1.05, 1.0));
    setNote(chart, top <= 0 ? QStringLiteral("No link carried a byte yet") : QString());
}

void style(QChart *chart, Theme theme)
{
    const Palette p = paletteFor(theme);
    chart->setProperty("edgesseTheme", int(theme));
    chart->setBackgroundBrush(p.background);
    chart->setBackgroundRoundness(0);
    chart->setPlotAreaBackgroundBrush(p.plot);
    chart->setPlotAreaBackgroundVisible(true);
    chart->setTitleFont(font(18, true));
    chart->setTitleBrush(p.text);
    chart->legend()->setFont(font(13));
    chart->legend()->setLabelColor(p.text);
    chart->legend()->setAlignment(Qt::AlignBottom);
    const bool barChart = !chart->series().isEmpty() && qobject_cast<QAbstractBarSeries *>(chart->series().constFirst());
    chart->legend()->setMarkerShape(barChart ? QLegend::MarkerShapeRectangle : QLegend::MarkerShapeFromSeries);
    chart->setMargins(QMargins(12, 8, 16, 8));
    for (QAbstractAxis *a : chart->axes())
        styleAxis(a, p);
    for (QGraphicsItem *child : chart->childItems())
        if (child->data(0).toString() == QLatin1String("edgesseNote"))
            static_cast<QGraphicsSimpleTextItem *>(child)->setBrush(p.mutedText);
    for (QAbstractSeries *s : chart->series()) {
        styleSeries(s, theme);
        if (auto *bars = qobject_cast<QAbstractBarSeries *>(s)) {
            for (qsizetype i = 0; i < bars->barSets().size(); ++i)
                styleBarSet(bars->barSets().at(i), theme, int(i));
        }
    }
}

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// Lays the chart out at `size` in a scene of its own and paints it.
bool render(QChart *chart, QPainter &painter, QSize size)
{
    const bool ownScene = chart->scene() == nullptr;
    QGraphicsScene scene;
    if (ownScene)
        scene.addItem(chart);
    chart->setPos(0, 0);
    chart->resize(QSizeF(size));
    if (chart->layout())
        chart->layout()->activate();
    QGraphicsScene *target = chart->scene();
    target->setSceneRect(QRectF(QPointF(0, 0), QSizeF(size)));
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    painter.setFont(QFont(fontFamily())); // what an SVG declares where no text sets its own
    target->render(&painter, QRectF(QPointF(0, 0), QSizeF(size)), QRectF(QPointF(0, 0), QSizeF(size)));
    if (ownScene)
        scene.removeItem(chart);
    return true;
}

} // namespace

QList<ChartKind> allChartKinds()
{
    return {ChartKind::LatencyCdf,          ChartKind::LatencyPercentiles, ChartKind::LatencyOverTime,
            ChartKind::ConnectionsOverTime, ChartKind::ReconnectsAndLoss,  ChartKind::LinkBytes,
            ChartKind::InstancesOverTime,   ChartKind::InstanceConnections, ChartKind::ConnectionsMoved,
            ChartKind::AttemptsAnd503s};
}

QString chartFileStem(ChartKind kind)
{
    switch (kind) {
    case ChartKind::LatencyCdf: return QStringLiteral("latency-cdf");
    case ChartKind::LatencyPercentiles: return QStringLiteral("latency-percentiles");
    case ChartKind::LatencyOverTime: return QStringLiteral("latency-over-time");
    case ChartKind::ConnectionsOverTime: return QStringLiteral("connections-over-time");
    case ChartKind::ReconnectsAndLoss: return QStringLiteral("reconnects-and-loss");
    case ChartKind::LinkBytes: return QStringLiteral("link-bytes");
    case ChartKind::InstancesOverTime: return QStringLiteral("instances-over-time");
    case ChartKind::InstanceConnections: return QStringLiteral("instance-connections");
    case ChartKind::ConnectionsMoved: return QStringLiteral("connections-moved");
    case ChartKind::AttemptsAnd503s: return QStringLiteral("attempts-and-503s");
    }
    return QStringLiteral("chart");
}

QString chartTitle(ChartKind kind)
{
    switch (kind) {
    case ChartKind::LatencyCdf: return QStringLiteral("Latency distribution");
    case ChartKind::LatencyPercentiles: return QStringLiteral("Latency percentiles");
    case ChartKind::LatencyOverTime: return QStringLiteral("Latency over time (per 100 ms window)");
    case ChartKind::ConnectionsOverTime: return QStringLiteral("Open connections per node");
    case ChartKind::ReconnectsAndLoss: return QStringLiteral("Reconnects and lost events");
    case ChartKind::LinkBytes: return QStringLiteral("Bytes and heartbeat overhead per link");
    case ChartKind::InstancesOverTime: return QStringLiteral("Instances per routed node");
    case ChartKind::InstanceConnections: return QStringLiteral("Open connections per instance");
    case ChartKind::ConnectionsMoved: return QStringLiteral("Connections moved to another instance");
    case ChartKind::AttemptsAnd503s: return QStringLiteral("Connection attempts and 503s per second");
    }
    return {};
}

std::unique_ptr<QChart> buildChart(ChartKind kind, const RunResult &result, const ChartOptions &options)
{
    auto chart = std::make_unique<QChart>();
    chart->setProperty(kKind, int(kind));
    chart->setProperty("edgesseTheme", int(options.theme));
    chart->setTitle(chartTitle(kind));
    chart->setAnimationOptions(options.animations ? QChart::SeriesAnimations : QChart::NoAnimation);
    switch (kind) {
    case ChartKind::LatencyCdf: setupLatencyCdf(chart.get()); break;
    case ChartKind::LatencyPercentiles: setupPercentiles(chart.get()); break;
    case ChartKind::LatencyOverTime: setupOverTime(chart.get(), QStringLiteral("Latency (ms)")); break;
    case ChartKind::ConnectionsOverTime: setupOverTime(chart.get(), QStringLiteral("Open connections")); break;
    case ChartKind::ReconnectsAndLoss: setupReconnects(chart.get()); break;
    case ChartKind::LinkBytes: setupLinkBytes(chart.get()); break;
    case ChartKind::InstancesOverTime: routing::setupInstances(chart.get()); break;
    case ChartKind::InstanceConnections: routing::setupInstanceConnections(chart.get()); break;
    case ChartKind::ConnectionsMoved: routing::setupMoves(chart.get()); break;
    case ChartKind::AttemptsAnd503s: routing::setupAttempts(chart.get()); break;
    }
    updateChart(chart.get(), kind, result);
    style(chart.get(), options.theme);
    return chart;
}

void updateChart(QChart *chart, ChartKind kind, const RunResult &result)
{
    if (!chart)
        return;
    // Line series not touched by this update belong to a variant, node or link that is no
    // longer in the result (a new run started): they go.
    const int generation = chart->property("edgesseGeneration").toInt() + 1;
    chart->setProperty("edgesseGeneration", generation);
    const auto removeStale = qScopeGuard([chart, generation] {
        for (QAbstractSeries *s : chart->series()) {
            if (qobject_cast<QLineSeries *>(s) && s->property("edgesseGeneration").toInt() != generation) {
                chart->removeSeries(s);
                delete s;
            }
        }
    });
    switch (kind) {
    case ChartKind::LatencyCdf: updateLatencyCdf(chart, result); break;
    case ChartKind::LatencyPercentiles: updatePercentiles(chart, result); break;
    case ChartKind::LatencyOverTime: updateLatencyOverTime(chart, result); break;
    case ChartKind::ConnectionsOverTime: updateConnectionsOverTime(chart, result); break;
    case ChartKind::ReconnectsAndLoss: updateReconnects(chart, result); break;
    case ChartKind::LinkBytes: updateLinkBytes(chart, result); break;
    case ChartKind::InstancesOverTime: routing::updateInstances(chart, result); break;
    case ChartKind::InstanceConnections: routing::updateInstanceConnections(chart, result); break;
    case ChartKind::ConnectionsMoved: routing::updateMoves(chart, result); break;
    case ChartKind::AttemptsAnd503s: routing::updateAttempts(chart, result); break;
    }
}

void applyTheme(QChart *chart, Theme theme)
{
    if (chart)
        style(chart, theme);
}

bool renderPng(QChart *chart, const QString &path, const ExportOptions &options, QByteArray *bytes, QString *error)
{
    const qreal ratio = options.pixelRatio > 0 ? options.pixelRatio : 1.0;
    QImage image(options.size * ratio, QImage::Format_ARGB32_Premultiplied);
    if (image.isNull())
        return fail(error, QStringLiteral("cannot render %1: the image size %2×%3 is too large")
                               .arg(path).arg(options.size.width()).arg(options.size.height()));
    image.setDevicePixelRatio(ratio);
    image.fill(chart->backgroundBrush().color());
    {
        QPainter painter(&image);
        render(chart, painter, options.size);
    }
    QBuffer buffer(bytes);
    if (!buffer.open(QIODevice::WriteOnly) || !image.save(&buffer, "PNG"))
        return fail(error, QStringLiteral("cannot render %1: PNG encoding failed").arg(path));
    return true;
}

bool renderSvg(QChart *chart, const ExportOptions &options, QByteArray *bytes)
{
    QBuffer buffer(bytes);
    buffer.open(QIODevice::WriteOnly);
    QSvgGenerator generator;
    generator.setOutputDevice(&buffer);
    generator.setSize(options.size);
    generator.setViewBox(QRect(QPoint(0, 0), options.size));
    generator.setResolution(96); // so the SVG is as wide in CSS pixels as the PNG is in logical ones
    generator.setTitle(chart->title());
    generator.setDescription(QStringLiteral("EdgeSSE chart"));
    QPainter painter(&generator);
    painter.fillRect(QRect(QPoint(0, 0), options.size), chart->backgroundBrush());
    render(chart, painter, options.size);
    return true;
}

bool exportPng(QChart *chart, const QString &path, const ExportOptions &options, QString *error)
{
    QByteArray bytes;
    return renderPng(chart, path, options, &bytes, error) && io::writeFileAtomically(path, bytes, error);
}

bool exportSvg(QChart *chart, const QString &path, const ExportOptions &options, QString *error)
{
    QByteArray bytes;
    return renderSvg(chart, options, &bytes) && io::writeFileAtomically(path, bytes, error);
}

QStringList chartFileNames(const ExportOptions &options)
{
    QStringList names;
    for (ChartKind kind : allChartKinds()) {
        if (options.png)
            names << chartFileStem(kind) + QStringLiteral(".png");
        if (options.svg)
            names << chartFileStem(kind) + QStringLiteral(".svg");
    }
    return names;
}

std::optional<std::vector<std::pair<QString, QByteArray>>> chartFiles(const metrics::RunResult &result, const ExportOptions &options,
                                                                      QString *error)
{
    std::vector<std::pair<QString, QByteArray>> files;
    for (ChartKind kind : allChartKinds()) {
        ChartOptions chartOptions;
        chartOptions.theme = options.theme;
        const std::unique_ptr<QChart> chart = buildChart(kind, result, chartOptions);
        const QString stem = chartFileStem(kind);
        if (options.png) {
            QByteArray bytes;
            if (!renderPng(chart.get(), stem + QStringLiteral(".png"), options, &bytes, error))
                return std::nullopt;
            files.emplace_back(stem + QStringLiteral(".png"), bytes);
        }
        if (options.svg) {
            QByteArray bytes;
            renderSvg(chart.get(), options, &bytes);
            files.emplace_back(stem + QStringLiteral(".svg"), bytes);
        }
    }
    return files;
}

QStringList exportCharts(const RunResult &result, const QString &dir, const ExportOptions &options, QString *error)
{
    if (!QDir().mkpath(dir)) {
        fail(error, QStringLiteral("cannot create the directory %1: check the path and its permissions").arg(dir));
        return {};
    }
    const auto files = chartFiles(result, options, error);
    if (!files)
        return {};
    io::OutputSet set(dir);
    for (const auto &[name, bytes] : *files)
        if (!set.add(name, bytes))
            break;
    if (!set.commit()) {
        fail(error, set.error());
        return {};
    }
    return set.paths();
}

} // namespace edgesse::charts
