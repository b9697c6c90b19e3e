#include "app/gui/comparisonview.h"

#include "app/gui/chartgrid.h"
#include "app/gui/stalltrace.h"
#include "app/gui/theme.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace edgesse::gui {

namespace {

QTableWidget *figureTable(const QString &name, QWidget *parent)
{
    auto *table = new QTableWidget(parent);
    table->setObjectName(name);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionMode(QAbstractItemView::ContiguousSelection);
    table->setAlternatingRowColors(true);
    table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table->horizontalHeader()->setMinimumSectionSize(96);
    table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    table->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    // Never narrower than its columns: the whole tab scrolls instead of the table cutting them.
    table->setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
    return table;
}

// A table being filled: its headers do not size themselves to their contents until it is
// done (in ResizeToContents, every header item set measures its whole row or column again),
// and it is drawn once, filled.
class TableFill
{
public:
    explicit TableFill(QTableWidget *table)
        : m_table(table)
    {
        m_table->setUpdatesEnabled(false);
        for (QHeaderView *header : {m_table->horizontalHeader(), m_table->verticalHeader()})
            header->setSectionResizeMode(QHeaderView::Fixed);
    }
    ~TableFill()
    {
        for (QHeaderView *header : {m_table->horizontalHeader(), m_table->verticalHeader()})
            header->setSectionResizeMode(QHeaderView::ResizeToContents);
        m_table->setUpdatesEnabled(true);
    }
    TableFill(const TableFill &) = delete;
    TableFill &operator=(const TableFill &) = delete;

private:
    QTableWidget *m_table;
};

// One row a figure, one column an entry: the value, and under it Δ and % against the baseline.
void fillRows(QTableWidget *table, int firstRow, const QString &prefix, const QList<runs::Figure> &figures,
              const QList<QList<double>> &values, int baseline, const ThemeColors &colors)
{
    for (int f = 0; f < figures.size(); ++f) {
        const runs::Figure &figure = figures.at(f);
        const int row = firstRow + f;
        auto *header = new QTableWidgetItem(prefix + figure.header);
        header->setToolTip(figure.tooltip + (!figure.ranked ? QString()
                                             : figure.lowerIsBetter ? QObject::tr(" (lower is better)")
                                                                    : QObject::tr(" (higher is better)")));
        table->setVerticalHeaderItem(row, header);
        QList<double> column;
        for (const QList<double> &v : values)
            column << v.value(f, std::nan(""));
        const int best = runs::bestIndex(column, figure);
        const double base = column.value(baseline, std::nan(""));
        for (int e = 0; e < column.size(); ++e) {
            QString text = runs::formatValue(column.at(e), figure.format);
            if (e != baseline && column.size() > 1)
                text += QLatin1Char('\n') + runs::formatDelta(column.at(e), base, figure.format);
            auto *item = new QTableWidgetItem(text);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            if (e == best) {
                QFont font = item->font();
                font.setBold(true);
                item->setFont(font);
                item->setForeground(colors.ok);
                item->setToolTip(QObject::tr("best: beats every other value by 5% or more"));
            }
            table->setItem(row, e, item);
        }
    }
}

} // namespace

ComparisonView::ComparisonView(QWidget *parent)
    : QWidget(parent)
    , m_header(new QLabel(this))
    , m_baseline(new QComboBox(this))
    , m_baselineRow(new QWidget(this))
    , m_table(figureTable(QStringLiteral("summaryTable"), this))
    , m_groupTable(figureTable(QStringLiteral("groupTable"), this))
    , m_charts(new ChartGrid(charts::allChartKinds(), 2, this))
{
    setObjectName(QStringLiteral("comparison"));
    m_header->setObjectName(QStringLiteral("comparisonHeader"));
    m_header->setContentsMargins(8, 6, 8, 2);
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_baseline->setObjectName(QStringLiteral("baselineBox"));
    m_baseline->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto *baselineLayout = new QHBoxLayout(m_baselineRow);
    baselineLayout->setContentsMargins(8, 0, 8, 0);
    auto *baselineLabel = new QLabel(tr("&Baseline:"), m_baselineRow);
    baselineLabel->setBuddy(m_baseline);
    baselineLayout->addWidget(baselineLabel);
    baselineLayout->addWidget(m_baseline);
    baselineLayout->addStretch(1);
    connect(m_baseline, &QComboBox::currentIndexChanged, this, &ComparisonView::setBaseline);

    auto *tables = new QHBoxLayout;
    tables->setContentsMargins(0, 0, 0, 0);
    tables->addWidget(m_table, 0, Qt::AlignTop);
    tables->addWidget(m_groupTable, 0, Qt::AlignTop);
    tables->addStretch(1);

    auto *content = new QWidget;
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    contentLayout->addWidget(m_header);
    contentLayout->addWidget(m_baselineRow);
    contentLayout->addLayout(tables);
    contentLayout->addWidget(m_charts, 1);
    m_charts->setMinimumHeight(3 * 300);
    auto *scroll = new QScrollArea(this);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(content);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll);
    clear();
}

void ComparisonView::clear()
{
    m_comparison = {};
    for (QTableWidget *table : {m_table, m_groupTable}) {
        table->clear();
        table->setRowCount(0);
        table->setColumnCount(0);
        table->hide();
    }
    {
        const QSignalBlocker blocker(m_baseline);
        m_baseline->clear();
    }
    m_baselineRow->hide();
    m_charts->clear();
    m_header->setText(tr("No results yet. Run the scenario (Ctrl+R), or check runs under Runs: they are compared here."));
}

void ComparisonView::setTheme(charts::Theme theme)
{
    m_charts->setTheme(theme);
}

void ComparisonView::setResult(const metrics::RunResult &result)
{
    setComparison(runs::compare({result}));
}

void ComparisonView::setComparison(const runs::Comparison &comparison)
{
    if (comparison.isEmpty()) {
        clear();
        return;
    }
    m_comparison = comparison;
    {
        const QSignalBlocker blocker(m_baseline);
        m_baseline->clear();
        for (const runs::Entry &e : m_comparison.entries)
            m_baseline->addItem(e.label);
        m_baseline->setCurrentIndex(m_comparison.baseline);
    }
    m_baselineRow->setVisible(m_comparison.entries.size() > 1);
    const StallTrace trace("comparison: set");
    fillHeader();
    fillTotals();
    fillGroups();
    m_charts->setResult(m_comparison.asRunResult());
    m_charts->refresh();
}

void ComparisonView::setBaseline(int index)
{
    if (index < 0 || index >= m_comparison.entries.size() || index == m_comparison.baseline)
        return;
    m_comparison.baseline = index;
    {
        const QSignalBlocker blocker(m_baseline);
        m_baseline->setCurrentIndex(index);
    }
    fillHeader();
    fillTotals();
    fillGroups();
    emit baselineChanged(index);
}

void ComparisonView::fillHeader()
{
    const runs::Comparison &c = m_comparison;
    QString html = QStringLiteral("<b>%1</b>").arg(c.scenarioName.toHtmlEscaped());
    if (!c.question.isEmpty())
        html += QStringLiteral("<br><i>%1</i>").arg(c.question.toHtmlEscaped());
    const ThemeColors colors = themeColors(palette());
    for (const QString &line : c.verdict())
        html += QStringLiteral("<br><span style='color:%1'>▸ %2</span>").arg(colors.ok.name(), line.toHtmlEscaped());
    for (const runs::Entry &e : c.entries)
        for (const QString &w : e.result.warnings)
            html += QStringLiteral("<br><span style='color:%1'>⚠ %2</span>")
                        .arg(colors.warning.name(), QStringLiteral("%1: %2").arg(e.label, w).toHtmlEscaped());
    m_header->setText(html);
}

void ComparisonView::fillTotals()
{
    const QList<runs::Figure> figures = runs::totalFigures();
    const TableFill fill(m_table);
    m_table->clear();
    m_table->setRowCount(int(figures.size()));
    m_table->setColumnCount(int(m_comparison.entries.size()));
    QList<QList<double>> values;
    for (int e = 0; e < m_comparison.entries.size(); ++e) {
        const runs::Entry &entry = m_comparison.entries.at(e);
        const QString protocol = runs::protocolLabel(entry.result);
        const QString label = protocol.isEmpty() ? entry.label : entry.label + QStringLiteral(" · ") + protocol;
        auto *name = new QTableWidgetItem(e == m_comparison.baseline && m_comparison.entries.size() > 1
                                              ? label + tr(" (baseline)") : label);
        name->setToolTip(entry.run.isEmpty() ? entry.variant : tr("%1, run started %2").arg(entry.variant, entry.run));
        m_table->setHorizontalHeaderItem(e, name);
        values << runs::totalValues(entry.result);
    }
    fillRows(m_table, 0, {}, figures, values, m_comparison.baseline, themeColors(palette()));
    m_table->show();
}

void ComparisonView::fillGroups()
{
    const QStringList groups = m_comparison.groupNames();
    if (groups.size() < 2) {
        m_groupTable->hide();
        return;
    }
    const QList<runs::Figure> figures = runs::groupFigures();
    const TableFill fill(m_groupTable);
    m_groupTable->clear();
    m_groupTable->setRowCount(int(groups.size() * figures.size()));
    m_groupTable->setColumnCount(int(m_comparison.entries.size()));
    for (int e = 0; e < m_comparison.entries.size(); ++e)
        m_groupTable->setHorizontalHeaderItem(e, new QTableWidgetItem(m_comparison.entries.at(e).label));
    for (int g = 0; g < groups.size(); ++g) {
        QList<QList<double>> values;
        for (const runs::Entry &entry : m_comparison.entries) {
            QList<double> v;
            for (const metrics::GroupResult &group : entry.result.groups)
                if (group.name == groups.at(g))
                    v = runs::groupValues(group);
            values << v;
        }
        fillRows(m_groupTable, int(g * figures.size()), groups.at(g) + QStringLiteral(" · "), figures, values,
                 m_comparison.baseline, themeColors(palette()));
    }
    m_groupTable->show();
}

} // namespace edgesse::gui
