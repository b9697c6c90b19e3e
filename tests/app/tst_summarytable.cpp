// What `edgesse run` prints and the comparison tab shows where nothing was measured: a
// polling variant has no overhead, a variant that delivered nothing has no latency. Those
// cells read "-" (table) or "—" (comparison), are never marked best, and are not zeros.

#include "app/cli/summarytable.h"
#include "app/gui/comparisonview.h"
#include "../metricsfixture.h"

#include <QTableWidget>
#include <QTest>

using edgesse::metrics::LatencyHistogram;
using edgesse::metrics::LatencySummary;
using edgesse::metrics::PercentileSummary;

class TestSummaryTable final : public QObject
{
    Q_OBJECT

private slots:
    void cliTableShowsADashForNothingMeasured();
    void comparisonShowsADashAndNeverMarksItBest();

private:
    static edgesse::metrics::RunResult pollingAndPush();
};

edgesse::metrics::RunResult TestSummaryTable::pollingAndPush()
{
    edgesse::metrics::RunResult result = edgesse::testing::makeRunResult(8, 3);
    result.variants[0].name = QStringLiteral("polling");
    result.variants[0].overhead = PercentileSummary::from(LatencyHistogram{});
    result.variants[1].name = QStringLiteral("nothing");
    result.variants[1].latency = LatencySummary::from(LatencyHistogram{});
    result.variants[1].timeToFirstEvent = PercentileSummary::from(LatencyHistogram{});
    return result;
}

void TestSummaryTable::cliTableShowsADashForNothingMeasured()
{
    const QStringList lines = edgesse::cli::summaryTable(pollingAndPush()).split(QLatin1Char('\n'));
    QVERIFY(lines.size() >= 3);
    QVERIFY(lines[0].contains(QStringLiteral("overhead p99 ms")));
    QVERIFY(lines[1].startsWith(QStringLiteral("polling")));
    QVERIFY(lines[2].startsWith(QStringLiteral("nothing")));
    // Columns are right-aligned under their header: the cell ends where the header ends.
    const auto cellUnder = [&](const QString &line, const QString &title) {
        const qsizetype end = lines[0].indexOf(title) + title.size();
        qsizetype start = end;
        while (start > 0 && line[start - 1] != QLatin1Char(' '))
            --start;
        return line.mid(start, end - start);
    };
    QCOMPARE(cellUnder(lines[1], QStringLiteral("overhead p99 ms")), QStringLiteral("-"));
    QVERIFY(cellUnder(lines[1], QStringLiteral("p50 ms")) != QStringLiteral("-"));
    QCOMPARE(cellUnder(lines[2], QStringLiteral("p50 ms")), QStringLiteral("-"));
    QCOMPARE(cellUnder(lines[2], QStringLiteral("p99 ms")), QStringLiteral("-"));
    QCOMPARE(cellUnder(lines[2], QStringLiteral("first event ms")), QStringLiteral("-"));
    QVERIFY(cellUnder(lines[2], QStringLiteral("overhead p99 ms")) != QStringLiteral("-"));
}

void TestSummaryTable::comparisonShowsADashAndNeverMarksItBest()
{
    edgesse::gui::ComparisonView view;
    view.setResult(pollingAndPush());
    QTableWidget *table = view.table();
    const auto columns = edgesse::runs::totalFigures();
    int overheadRow = -1;
    int p50Row = -1;
    for (int r = 0; r < columns.size(); ++r) {
        if (columns[r].header == QStringLiteral("overhead p99 ms"))
            overheadRow = r;
        if (columns[r].header == QStringLiteral("p50 ms"))
            p50Row = r;
    }
    QVERIFY(overheadRow >= 0 && p50Row >= 0);
    QCOMPARE(table->item(overheadRow, 0)->text(), QStringLiteral("—"));
    QCOMPARE(table->item(p50Row, 1)->text().section(QLatin1Char('\n'), 0, 0), QStringLiteral("—"));
    // Zero would be the lowest overhead; nothing measured is not marked best.
    QVERIFY(!table->item(overheadRow, 0)->font().bold());
    QVERIFY(!table->item(p50Row, 1)->font().bold());
}

QTEST_MAIN(TestSummaryTable)
#include "tst_summarytable.moc"
