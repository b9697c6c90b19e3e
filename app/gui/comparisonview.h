#pragma once

#include "app/charts/charts.h"

#include <QWidget>

class QLabel;
class QTableWidget;

namespace edgesse::gui {

class ChartGrid;

// After a run: the summary figures per variant in a table (the best value of each column
// marked) and every chart of the headless export, side by side.
class ComparisonView final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ComparisonView)

public:
    explicit ComparisonView(QWidget *parent = nullptr);

    void setResult(const metrics::RunResult &result);
    void clear();
    void setTheme(charts::Theme theme);
    QTableWidget *table() const { return m_table; }
    ChartGrid *charts() const { return m_charts; }

    // The table's columns: header, tooltip, and whether lower is better (for the mark).
    enum class Format { Milliseconds, Count, Bytes };
    struct Column
    {
        QString header;
        QString tooltip;
        bool lowerIsBetter = true;
        Format format = Format::Milliseconds;
    };
    static QList<Column> columns();
    // One row of figures per variant, formatted as the table shows them (also used by the report).
    static QStringList rowFor(const metrics::VariantResult &variant);
    static QList<double> valuesFor(const metrics::VariantResult &variant);

private:
    QLabel *m_header = nullptr;
    QTableWidget *m_table = nullptr;
    ChartGrid *m_charts = nullptr;
};

} // namespace edgesse::gui
