#pragma once

#include "app/charts/charts.h"

#include <QWidget>

#include <map>

class QChart;
class QChartView;
class QGridLayout;
class QLabel;
class QTimer;

namespace edgesse::gui {

// A grid of charts of one RunResult, in a fixed order. Each chart's legend is a wrapping
// line of text under it (never elided: every name whole), each line series' entry a link
// that shows or hides it; hovering a line or bar shows its value. setResult() only records the new
// result and marks the grid dirty; refresh() (called by the owner's timer, at most ~10 Hz)
// redraws — and only when the grid is visible, so a hidden tab costs nothing. A redraw is a
// pass over the charts, one chart an event-loop turn (from the next on), so ten charts laid
// out and filled never hold the GUI thread at once; a chart is shown from its first pass on.
class ChartGrid final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChartGrid)

public:
    ChartGrid(const QList<charts::ChartKind> &kinds, int columns, QWidget *parent = nullptr);
    ~ChartGrid() override;

    void setResult(const metrics::RunResult &result);
    void setResult(metrics::RunResult &&result);
    const metrics::RunResult &result() const { return m_result; }
    bool isDirty() const { return m_dirty; }
    // Starts a pass when dirty and visible (the charts a pass under way has not reached yet
    // are drawn from the newest result); returns true when it did.
    bool refresh();
    bool isRefreshing() const { return !m_pending.isEmpty(); }
    void clear();
    void setTheme(charts::Theme theme);

    QChartView *view(charts::ChartKind kind) const;
    QLabel *legend(charts::ChartKind kind) const;
    int refreshCount() const { return m_refreshes; } // passes completed

protected:
    void showEvent(QShowEvent *event) override;

private:
    void step();
    void prepare(charts::ChartKind kind, QChart *chart);
    void updateLegend(charts::ChartKind kind);

    QList<charts::ChartKind> m_kinds;
    std::map<charts::ChartKind, QChartView *> m_views;
    std::map<charts::ChartKind, QLabel *> m_legends;
    std::map<charts::ChartKind, QWidget *> m_cells;
    QList<charts::ChartKind> m_pending; // the rest of the pass under way
    QTimer *m_stepTimer = nullptr;
    QStringList m_hidden; // series names hidden from the legend, kept across refreshes
    metrics::RunResult m_result;
    charts::Theme m_theme = charts::Theme::Light;
    bool m_dirty = false;
    int m_refreshes = 0;
};

} // namespace edgesse::gui
