#include "app/gui/chartgrid.h"

#include <QChart>
#include <QChartView>
#include <QGridLayout>

namespace edgesse::gui {

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
    for (const auto &[kind, view] : m_views)
        charts::updateChart(view->chart(), kind, m_result);
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
        delete old;
    }
    m_dirty = false;
}

void ChartGrid::setTheme(charts::Theme theme)
{
    m_theme = theme;
    for (const auto &[kind, view] : m_views)
        charts::applyTheme(view->chart(), theme);
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
