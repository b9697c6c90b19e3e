#include "app/gui/comparisonview.h"

#include "app/gui/chartgrid.h"
#include "app/gui/theme.h"

#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace edgesse::gui {

namespace {

QString ms(double value)
{
    if (std::isnan(value))
        return QStringLiteral("—");
    return QLocale::c().toString(value, 'f', value < 10 ? 2 : 1);
}

// NaN (shown as "—", never marked best) where nothing was measured.
double measured(double value, std::uint64_t samples)
{
    return samples == 0 ? std::nan("") : value;
}

QString count(std::uint64_t value)
{
    return QLocale().toString(qulonglong(value));
}

QString bytes(std::uint64_t value)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = double(value);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(QLocale::c().toString(v, 'f', unit == 0 ? 0 : 1), QLatin1String(units[unit]));
}

} // namespace

QList<ComparisonView::Column> ComparisonView::columns()
{
    return {
        {tr("p50 ms"), tr("Median publish-to-receipt latency"), true},
        {tr("p90 ms"), tr("90th percentile latency"), true},
        {tr("p99 ms"), tr("99th percentile latency"), true},
        {tr("p99.9 ms"), tr("99.9th percentile latency"), true},
        {tr("max ms"), tr("Worst latency seen"), true},
        {tr("first event p50 ms"), tr("Median time from opening a stream to its first event"), true},
        {tr("delivered"), tr("Events delivered, over every stream"), false, Format::Count},
        {tr("lost"), tr("Events a stream should have received and never did"), true, Format::Count},
        {tr("duplicated"), tr("Events a stream received more than once"), true, Format::Count},
        {tr("reconnects"), tr("EventSource reconnections (gateway reaps, server closes, errors)"), true, Format::Count},
        {tr("starved"), tr("Streams that waited for a connection (HTTP/1.1's six per origin)"), true, Format::Count},
        {tr("origin conn"), tr("Most connections open at the origin at once"), true, Format::Count},
        {tr("bytes"), tr("Bytes over every link, both directions"), true, Format::Bytes},
        {tr("overhead p99 ms"), tr("Measured minus configured latency: the simulator's own cost"), true},
    };
}

QList<double> ComparisonView::valuesFor(const metrics::VariantResult &v)
{
    const std::uint64_t n = v.latency.count;
    return {measured(v.latency.p50, n),
            measured(v.latency.p90, n),
            measured(v.latency.p99, n),
            measured(v.latency.p999, n),
            measured(v.latency.max, n),
            measured(v.timeToFirstEvent.p50, v.timeToFirstEvent.count),
            double(v.events.delivered),
            double(v.events.lost),
            double(v.events.duplicated),
            double(v.streams.reconnects),
            double(v.streams.starved),
            double(v.connections.originMax),
            double(v.bytes.total),
            measured(v.overhead.p99, v.overhead.count)};
}

QStringList ComparisonView::rowFor(const metrics::VariantResult &v)
{
    const QList<double> values = valuesFor(v);
    const QList<Column> cols = columns();
    QStringList row;
    for (qsizetype i = 0; i < values.size(); ++i) {
        switch (cols.at(i).format) {
        case Format::Milliseconds:
            row << ms(values.at(i));
            break;
        case Format::Count:
            row << count(static_cast<std::uint64_t>(values.at(i)));
            break;
        case Format::Bytes:
            row << bytes(static_cast<std::uint64_t>(values.at(i)));
            break;
        }
    }
    return row;
}

ComparisonView::ComparisonView(QWidget *parent)
    : QWidget(parent)
    , m_header(new QLabel(this))
    , m_table(new QTableWidget(this))
    , m_charts(new ChartGrid(charts::allChartKinds(), 2, this))
{
    setObjectName(QStringLiteral("comparison"));
    m_table->setObjectName(QStringLiteral("summaryTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setMinimumSectionSize(110);
    m_table->setSizeAdjustPolicy(QAbstractScrollArea::AdjustToContents);
    m_table->setVerticalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_table->setSizePolicy(QSizePolicy::Maximum, QSizePolicy::Fixed);
    m_header->setContentsMargins(8, 6, 8, 2);
    m_header->setWordWrap(true);

    auto *content = new QWidget;
    auto *contentLayout = new QVBoxLayout(content);
    contentLayout->setContentsMargins(0, 0, 0, 0);
    contentLayout->addWidget(m_header);
    contentLayout->addWidget(m_table);
    contentLayout->addWidget(m_charts, 1);
    m_charts->setMinimumHeight(3 * 260);
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
    m_table->clear();
    m_table->setRowCount(0);
    m_table->setColumnCount(0);
    m_table->hide();
    m_charts->clear();
    m_header->setText(tr("No results yet. Run the scenario (Ctrl+R): the variants are compared here when the run ends."));
}

void ComparisonView::setTheme(charts::Theme theme)
{
    m_charts->setTheme(theme);
}

void ComparisonView::setResult(const metrics::RunResult &result)
{
    // One column a variant, one row a figure: a handful of variants read side by side.
    const QList<Column> cols = columns();
    m_table->clear();
    m_table->setRowCount(int(cols.size()));
    m_table->setColumnCount(int(result.variants.size()));
    for (int r = 0; r < cols.size(); ++r) {
        auto *header = new QTableWidgetItem(cols.at(r).header);
        header->setToolTip(cols.at(r).tooltip + (cols.at(r).lowerIsBetter ? tr(" (lower is better)") : tr(" (higher is better)")));
        m_table->setVerticalHeaderItem(r, header);
    }
    std::vector<QList<double>> values;
    for (int c = 0; c < int(result.variants.size()); ++c) {
        const metrics::VariantResult &variant = result.variants.at(std::size_t(c));
        auto *name = new QTableWidgetItem(variant.name);
        if (!variant.warnings.isEmpty())
            name->setToolTip(variant.warnings.join(QLatin1Char('\n')));
        m_table->setHorizontalHeaderItem(c, name);
        const QStringList figures = rowFor(variant);
        for (int r = 0; r < figures.size(); ++r) {
            auto *item = new QTableWidgetItem(figures.at(r));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, c, item);
        }
        values.push_back(valuesFor(variant));
    }
    // With more than one variant, the best value of each figure is marked.
    if (values.size() > 1) {
        const ThemeColors colors = themeColors(palette());
        for (int r = 0; r < cols.size(); ++r) {
            int best = -1;
            bool tie = true;
            for (int c = 0; c < int(values.size()); ++c) {
                const double v = values[std::size_t(c)].at(r);
                if (std::isnan(v))
                    continue;
                if (best < 0) {
                    best = c;
                    continue;
                }
                const double b = values[std::size_t(best)].at(r);
                if (v != b)
                    tie = false;
                if (cols.at(r).lowerIsBetter ? v < b : v > b)
                    best = c;
            }
            if (best >= 0 && !tie) {
                QTableWidgetItem *item = m_table->item(r, best);
                QFont f = item->font();
                f.setBold(true);
                item->setFont(f);
                item->setForeground(colors.ok);
            }
        }
    }
    m_table->show();
    m_table->resizeColumnsToContents();
    QStringList warnings;
    for (const auto &variant : result.variants)
        for (const QString &w : variant.warnings)
            warnings << QStringLiteral("%1: %2").arg(variant.name, w).toHtmlEscaped();
    QString header = tr("<b>%1</b> · %n variant(s) · seed %2 · started %3", nullptr, int(result.variants.size()))
                         .arg(result.scenarioName.toHtmlEscaped())
                         .arg(result.seed)
                         .arg(result.startedAt.toHtmlEscaped());
    if (!warnings.isEmpty())
        header += QStringLiteral("<br><span style='color:%1'>⚠ %2</span>")
                      .arg(themeColors(palette()).warning.name(), warnings.join(QStringLiteral("<br>⚠ ")));
    m_header->setText(header);
    m_charts->clear();
    m_charts->setResult(result);
    m_charts->refresh();
}

} // namespace edgesse::gui
