#include "app/gui/chartgrid.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>

#include <functional>

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
{
    auto *layout = new QGridLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->setSpacing(6);
    for (int i = 0; i < kinds.size(); ++i) {
        auto *view = new QChartView(this);
        view->setObjectName(QStringLiteral("chart-") + charts::chartFileStem(kinds.at(i)));
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(240, 180);
        view->setChart(charts::buildChart(kinds.at(i), m_result, {m_theme, false}).release());
        compact(view->chart());
        layout->addWidget(view, i / columns, i % columns);
        m_views.emplace(kinds.at(i), view);
    }
}

ChartGrid::~ChartGrid() = default;

void ChartGrid::setResult(const metrics::RunResult &result)
{
    m_result = result;
    m_dirty = true;
}

bool ChartGrid::refresh()
{
    if (!m_dirty || !isVisible())
        return false;
    for (const auto &[kind, view] : m_views) {
        charts::updateChart(view->chart(), kind, m_result);
        compact(view->chart());
    }
    m_dirty = false;
    ++m_refreshes;
    return true;
}

void ChartGrid::clear()
{
    m_result = {};
    // Rebuilt rather than updated: a new run may have other variants, nodes and links.
    for (const auto &[kind, view] : m_views) {
        QChart *old = view->chart();
        view->setChart(charts::buildChart(kind, m_result, {m_theme, false}).release());
        compact(view->chart());
        delete old;
    }
    m_dirty = false;
}

void ChartGrid::setTheme(charts::Theme theme)
{
    m_theme = theme;
    for (const auto &[kind, view] : m_views) {
        charts::applyTheme(view->chart(), theme);
        compact(view->chart());
    }
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
