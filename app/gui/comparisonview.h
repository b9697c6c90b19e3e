#pragma once

#include "app/charts/charts.h"
#include "app/runs/comparison.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QTableWidget;

namespace edgesse::gui {

class ChartGrid;

// The comparison of any variants of any runs: the scenario's question and a verdict, the
// totals and the per-audience figures (value, and Δ and % against the chosen baseline; the
// best value marked where it beats the others meaningfully), and every chart of the export.
class ComparisonView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComparisonView)

public:
    explicit ComparisonView(QWidget *parent = nullptr);

    void setComparison(const runs::Comparison &comparison);
    void setResult(const metrics::RunResult &result); // one run, its first variant the baseline
    void setBaseline(int index);
    void clear();
    void setTheme(charts::Theme theme);

    const runs::Comparison &comparison() const { return m_comparison; }
    QTableWidget *table() const { return m_table; }
    QTableWidget *groupTable() const { return m_groupTable; }
    QComboBox *baselineBox() const { return m_baseline; }
    QLabel *header() const { return m_header; }
    ChartGrid *charts() const { return m_charts; }

signals:
    void baselineChanged(int index);

private:
    void fillTotals();
    void fillGroups();
    void fillHeader();

    runs::Comparison m_comparison;
    QLabel *m_header = nullptr;
    QComboBox *m_baseline = nullptr;
    QWidget *m_baselineRow = nullptr;
    QTableWidget *m_table = nullptr;
    QTableWidget *m_groupTable = nullptr;
    ChartGrid *m_charts = nullptr;
};

} // namespace edgesse::gui
