#include "app/gui/chartgrid.h"

#include "app/gui/stalltrace.h"

#include <QAbstractBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QCursor>
#include <QGridLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QTimer>
#include <QLocale>
#include <QToolTip>
#include <QVBoxLayout>
#include <QUrl>
#include <QXYSeries>

#include <algorithm>
#include <functional>
#include <utility>

namespace edgesse::gui {

namespace {

// The export's type sizes suit a 960 × 560 image; on screen the charts share a window, so
// their text is set a size smaller (only when it differs: setting a font relayouts a chart).
void setPixelSize(QFont font, int pixels, const std::function<void(const QFont &)> &apply)
{
    if (font.pixelSize() == pixels)
        return;
    font.setPixelSize(pixels);
    apply(font);
}

void compact(QChart *chart)
{
    setPixelSize(chart->titleFont(), 14, [chart](const QFont &f) { chart->setTitleFont(f); });
    setPixelSize(chart->legend()->font(), 11, [chart](const QFont &f) { chart->legend()->setFont(f); });
    for (QAbstractAxis *axis : chart->axes()) {
        setPixelSize(axis->labelsFont(), 10, [axis](const QFont &f) { axis->setLabelsFont(f); });
        setPixelSize(axis->titleFont(), 11, [axis](const QFont &f) { axis->setTitleFont(f); });
    }
    chart->setMargins(QMargins(4, 4, 8, 4));
}

} // namespace

ChartGrid::ChartGrid(const QList<charts::ChartKind> &kinds, int columns, QWidget *parent)
    : QWidget(parent)
    , m_kinds(kinds)
    , m_stepTimer(new QTimer(this))
{
    m_stepTimer->setSingleShot(true);
    m_stepTimer->setInterval(0);
    connect(m_stepTimer, &QTimer::timeout, this, &ChartGrid::step);
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    for (int i = 0; i < kinds.size(); ++i) {
        const charts::ChartKind kind = kinds.at(i);
        auto *cell = new QWidget(this);
        // Hidden until its chart is first drawn, its place kept: the others do not move when
        // it appears (laying out every chart at once is what the pass avoids).
        QSizePolicy policy = cell->sizePolicy();
        policy.setRetainSizeWhenHidden(true);
        cell->setSizePolicy(policy);
        cell->hide();
        auto *cellLayout = new QVBoxLayout(cell);
        cellLayout->setContentsMargins(0, 0, 0, 0);
        cellLayout->setSpacing(2);
        auto *view = new QChartView(cell);
        view->setObjectName(QStringLiteral("chart-") + charts::chartFileStem(kind));
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(240, 180);
        auto *legend = new QLabel(cell);
        legend->setObjectName(QStringLiteral("legend-") + charts::chartFileStem(kind));
        legend->setWordWrap(true);
        legend->setTextFormat(Qt::RichText);
        legend->setContentsMargins(8, 0, 8, 4);
        legend->setToolTip(tr("Click a line's name to show or hide it"));
        connect(legend, &QLabel::linkActivated, this, [this, kind](const QString &link) {
            const QString name = QUrl::fromPercentEncoding(link.mid(5).toUtf8());
            if (!m_hidden.removeOne(name))
                m_hidden << name;
            updateLegend(kind);
        });
        cellLayout->addWidget(view, 1);
        cellLayout->addWidget(legend);
        layout->addWidget(cell, i / columns, i % columns);
        m_views.emplace(kind, view);
        m_legends.emplace(kind, legend);
        m_cells.emplace(kind, cell);
        view->setChart(charts::buildChart(kind, m_result, {m_theme, false}).release());
        prepare(kind, view->chart());
    }
    m_dirty = true; // the first pass shows the charts
}

ChartGrid::~ChartGrid() = default;

void ChartGrid::setResult(const metrics::RunResult &result)
{
    m_result = result;
    m_dirty = true;
}

void ChartGrid::setResult(metrics::RunResult &&result)
{
    m_result = std::move(result);
    m_dirty = true;
}

bool ChartGrid::refresh()
{
    if (!m_dirty || !isVisible())
        return false;
    m_dirty = false;
    for (charts::ChartKind kind : m_kinds)
        if (!m_pending.contains(kind))
            m_pending << kind;
    if (!m_stepTimer->isActive())
        m_stepTimer->start(); // not now: the caller may have a tab to show, tables to fill
    return true;
}

void ChartGrid::step()
{
    if (m_pending.isEmpty())
        return;
    if (!isVisible()) {
        m_dirty = true; // the pass goes on when the grid is shown again
        return;
    }
    const charts::ChartKind kind = m_pending.takeFirst();
    {
        const StallTrace trace("chart grid: chart", int(kind));
        QChart *chart = view(kind)->chart();
        charts::updateChart(chart, kind, m_result);
        prepare(kind, chart);
        m_cells.at(kind)->show();
    }
    if (m_pending.isEmpty())
        ++m_refreshes;
    else
        m_stepTimer->start();
}

void ChartGrid::clear()
{
    const StallTrace trace("chart grid: clear");
    m_result = {};
    m_pending.clear();
    m_stepTimer->stop();
    // Updated in place to the empty result, not rebuilt: an update drops the lines of
    // variants, nodes and links the result no longer has and resets bars and axes, and
    // four new charts cost the GUI thread a frame's time at the start of every run.
    for (const auto &[kind, view] : m_views) {
        charts::updateChart(view->chart(), kind, m_result);
        prepare(kind, view->chart());
    }
    // Charts never drawn yet are still to be shown, by a pass.
    m_dirty = std::any_of(m_cells.begin(), m_cells.end(), [](const auto &cell) { return cell.second->isHidden(); });
}

void ChartGrid::setTheme(charts::Theme theme)
{
    m_theme = theme;
    for (const auto &[kind, view] : m_views) {
        charts::applyTheme(view->chart(), theme);
        prepare(kind, view->chart());
    }
}

QLabel *ChartGrid::legend(charts::ChartKind kind) const
{
    const auto it = m_legends.find(kind);
    return it == m_legends.end() ? nullptr : it->second;
}

void ChartGrid::prepare(charts::ChartKind kind, QChart *chart)
{
    compact(chart);
    chart->legend()->setVisible(false);
    for (QAbstractSeries *series : chart->series()) {
        if (series->property("edgesseHover").toBool())
            continue;
        series->setProperty("edgesseHover", true);
        if (auto *xy = qobject_cast<QXYSeries *>(series)) {
            connect(xy, &QXYSeries::hovered, this, [xy](const QPointF &point, bool state) {
                if (!state)
                    return QToolTip::hideText();
                QToolTip::showText(QCursor::pos(), QStringLiteral("%1\n%2, %3")
                                                       .arg(xy->name(), QLocale().toString(point.x(), 'g', 4),
                                                            QLocale().toString(point.y(), 'g', 4)));
            });
        } else if (auto *bars = qobject_cast<QAbstractBarSeries *>(series)) {
            for (QBarSet *set : bars->barSets())
                connect(set, &QBarSet::hovered, this, [set](bool state, int index) {
                    if (!state)
                        return QToolTip::hideText();
                    QToolTip::showText(QCursor::pos(), QStringLiteral("%1: %2").arg(set->label(), QLocale().toString(set->at(index), 'g', 6)));
                });
            series->setProperty("edgesseHover", false); // bar sets are rebuilt when the layout changes
        }
    }
    updateLegend(kind);
}

void ChartGrid::updateLegend(charts::ChartKind kind)
{
    QChartView *view = this->view(kind);
    QLabel *label = legend(kind);
    if (!view || !label)
        return;
    QStringList entries;
    for (QLegendMarker *marker : view->chart()->legend()->markers()) {
        const QString name = marker->label();
        const bool line = marker->type() == QLegendMarker::LegendMarkerTypeXY;
        const bool hidden = line && m_hidden.contains(name);
        if (line && marker->series()->isVisible() == hidden)
            marker->series()->setVisible(!hidden);
        const QColor color = line && marker->pen().style() != Qt::NoPen ? marker->pen().color() : marker->brush().color();
        const auto *xy = qobject_cast<QXYSeries *>(marker->series());
        const bool dashed = xy && xy->pen().style() != Qt::SolidLine;
        const QString swatch = QStringLiteral("<span style='color:%1'>%2</span>")
                                   .arg(hidden ? palette().color(QPalette::Disabled, QPalette::Text).name() : color.name(),
                                        line ? (dashed ? QStringLiteral("╌╌") : QStringLiteral("━━")) : QStringLiteral("■"));
        const QString text = hidden ? QStringLiteral("<s>%1</s>").arg(name.toHtmlEscaped()) : name.toHtmlEscaped();
        entries << (line ? QStringLiteral("%1&nbsp;<a href='show:%2' style='text-decoration:none;color:%3'>%4</a>")
                               .arg(swatch, QString::fromUtf8(QUrl::toPercentEncoding(name)), palette().color(QPalette::Text).name(), text)
                         : QStringLiteral("%1&nbsp;%2").arg(swatch, text));
    }
    label->setText(entries.join(QStringLiteral(" &nbsp; ")));
    label->setVisible(!entries.isEmpty());
}

QChartView *ChartGrid::view(charts::ChartKind kind) const
{
    const auto it = m_views.find(kind);
    return it == m_views.end() ? nullptr : it->second;
}

void ChartGrid::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refresh();
}

} // namespace edgesse::gui
