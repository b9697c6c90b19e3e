#include "app/cli/summarytable.h"

#include "core/metrics/runresult.h"

#include <QStringList>

#include <algorithm>
#include <vector>

namespace edgesse::cli {

namespace {

QString ms(double value)
{
    return QString::number(value, 'f', value >= 100 ? 0 : (value >= 10 ? 1 : 2));
}

// "-" where nothing was measured (no event delivered; polling has no overhead).
QString ms(double value, std::uint64_t samples)
{
    return samples == 0 ? QStringLiteral("-") : ms(value);
}

} // namespace

QString summaryTable(const metrics::RunResult &result)
{
    const QStringList header{QStringLiteral("variant"), QStringLiteral("p50 ms"), QStringLiteral("p99 ms"),
                             QStringLiteral("first event ms"), QStringLiteral("reconnects"), QStringLiteral("lost"),
                             QStringLiteral("delivered"), QStringLiteral("origin conns"),
                             QStringLiteral("overhead p99 ms"), QStringLiteral("error p99 ms"), QStringLiteral("cost/run"),
                             QStringLiteral("cost/h"), QStringLiteral("stalled stream-s")};
    std::vector<QStringList> rows{header};
    QStringList notes;
    QStringList scales;
    QStringList checks;
    for (const auto &v : result.variants) {
        QString costRun = QStringLiteral("-"), costHour = QStringLiteral("-");
        if (v.cost) {
            costRun = QStringLiteral("%1 %2").arg(QString::number(v.cost->run, 'g', 3), v.cost->currency);
            costHour = QStringLiteral("%1 %2").arg(QString::number(v.cost->perHour, 'g', 3), v.cost->currency);
        }
        const QString overhead = ms(v.overhead.p99, v.overhead.count);
        QString error = ms(v.error.percentiles.p99, v.error.percentiles.count);
        if (v.untrusted())
            error += QStringLiteral(" (!)");
        rows.push_back({v.name, ms(v.latency.p50, v.latency.count), ms(v.latency.p99, v.latency.count),
                        ms(v.timeToFirstEvent.p50, v.timeToFirstEvent.count),
                        QString::number(v.streams.reconnects), QString::number(v.events.lost),
                        QStringLiteral("%1/%2").arg(v.events.delivered).arg(v.events.expected),
                        QString::number(v.connections.originMax), overhead, error, costRun, costHour,
                        QString::number(v.stalledStreamSeconds, 'f', 2)});
        if (v.timeScale > 1.0 || !v.timeScaleNote.isEmpty())
            scales.push_back(QStringLiteral("%1: time scale %2, error p99 %3 ms (tolerance %4 ms)%5")
                                 .arg(v.name)
                                 .arg(v.timeScale, 0, 'g', 6)
                                 .arg(ms(v.error.percentiles.p99, v.error.percentiles.count))
                                 .arg(v.toleranceMs, 0, 'g', 6)
                                 .arg(v.timeScaleNote.isEmpty() ? QString() : QStringLiteral(": ") + v.timeScaleNote));
        for (const QString &warning : v.warnings)
            notes.push_back(QStringLiteral("%1: %2").arg(v.name, warning));
        for (const auto &c : v.conformance)
            checks.push_back(QStringLiteral("%1: %2 %3 %4: %5").arg(v.name, c.ok ? QStringLiteral("ok  ") : QStringLiteral("FAIL"), c.node, c.check, c.note));
    }
    std::vector<qsizetype> widths(header.size(), 0);
    for (const auto &row : rows) {
        for (qsizetype c = 0; c < row.size(); ++c)
            widths[std::size_t(c)] = std::max(widths[std::size_t(c)], row[c].size());
    }
    QString out;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        QStringList cells;
        for (qsizetype c = 0; c < rows[r].size(); ++c) {
            const qsizetype width = widths[std::size_t(c)];
            cells.push_back(c == 0 ? rows[r][c].leftJustified(width) : rows[r][c].rightJustified(width));
        }
        out += cells.join(QStringLiteral("  ")) + QLatin1Char('\n');
    }
    for (const QString &scale : scales)
        out += scale + QLatin1Char('\n');
    for (const QString &note : notes)
        out += QStringLiteral("warning: ") + note + QLatin1Char('\n');
    if (!checks.isEmpty())
        out += QStringLiteral("conformance of your servers:\n");
    for (const QString &check : checks)
        out += QStringLiteral("  ") + check + QLatin1Char('\n');
    return out;
}

} // namespace edgesse::cli
