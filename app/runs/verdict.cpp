#include "app/runs/comparison.h"

#include <QLocale>

#include <algorithm>
#include <cmath>

namespace edgesse::runs {

namespace {

enum class Aspect { Latency, FirstEvent, Reconnects, Lost, OriginConnections, Bytes, Requests, Cost, Starved };

struct Keyword
{
    const char *word;
    Aspect aspect;
};

const Keyword kKeywords[] = {
    {"latency", Aspect::Latency},          {"late", Aspect::Latency},
    {"first event", Aspect::FirstEvent},   {"reconnect", Aspect::Reconnects},
    {"lost", Aspect::Lost},                {"loss", Aspect::Lost},
    {"lose", Aspect::Lost},                {"turned away", Aspect::Lost},
    {"connection", Aspect::OriginConnections}, {"origin load", Aspect::OriginConnections},
    {"byte", Aspect::Bytes},               {"heartbeat", Aspect::Bytes},
    {"request", Aspect::Requests},         {"cost", Aspect::Cost},
    {"starv", Aspect::Starved},            {"http/2", Aspect::Starved},
    {"http/2", Aspect::OriginConnections},
};

QList<Aspect> aspectsNamedBy(const QString &question)
{
    const QString q = question.toLower();
    QList<Aspect> aspects;
    for (const Keyword &k : kKeywords)
        if (q.contains(QLatin1String(k.word)) && !aspects.contains(k.aspect))
            aspects.append(k.aspect);
    // Latency is what every scenario here is about; loss and origin load when it names nothing.
    if (!aspects.contains(Aspect::Latency))
        aspects.append(Aspect::Latency);
    if (aspects.size() == 1)
        aspects << Aspect::Lost << Aspect::OriginConnections;
    std::sort(aspects.begin(), aspects.end());
    return aspects;
}

QString msDelta(double delta)
{
    const QString magnitude = QLocale::c().toString(std::abs(delta), 'f', std::abs(delta) >= 10 ? 0 : 1);
    return (delta < 0 ? QStringLiteral("\u2212") : QStringLiteral("+")) + magnitude + QStringLiteral(" ms");
}

const metrics::GroupResult *groupNamed(const metrics::VariantResult &v, const QString &name)
{
    for (const metrics::GroupResult &g : v.groups)
        if (g.name == name)
            return &g;
    return nullptr;
}

// "p50 −12 ms for new-york, −1 ms for sydney": the audiences whose figure moved.
QString perAudience(const QString &figure, const Entry &e, const Entry &base, const QStringList &groups,
                    double (*value)(const metrics::GroupResult &))
{
    QStringList parts;
    for (const QString &name : groups) {
        const metrics::GroupResult *g = groupNamed(e.result, name);
        const metrics::GroupResult *b = groupNamed(base.result, name);
        if (!g || !b || !differsMeaningfully(value(*g), value(*b), Format::Milliseconds))
            continue;
        parts << QStringLiteral("%1 for %2").arg(msDelta(value(*g) - value(*b)), name);
    }
    if (parts.isEmpty())
        return {};
    return figure + QLatin1Char(' ') + parts.join(QStringLiteral(", "));
}

QString versus(const QString &figure, double value, double base, Format format)
{
    if (!differsMeaningfully(value, base, format))
        return {};
    return QStringLiteral("%1 %2 vs %3").arg(figure, formatValue(value, format), formatValue(base, format));
}

// "p50 −12 ms" over every stream (one audience, or none named).
QString overall(const QString &figure, double value, double base)
{
    if (!differsMeaningfully(value, base, Format::Milliseconds))
        return {};
    return figure + QLatin1Char(' ') + msDelta(value - base);
}

double groupP50(const metrics::GroupResult &g)
{
    return g.latency.count == 0 ? std::nan("") : g.latency.p50;
}

double groupFirstEvent(const metrics::GroupResult &g)
{
    return g.timeToFirstEvent.count == 0 ? std::nan("") : g.timeToFirstEvent.p50;
}

QString aspectText(Aspect aspect, const Entry &e, const Entry &base, const QStringList &groups)
{
    const metrics::VariantResult &v = e.result;
    const metrics::VariantResult &b = base.result;
    switch (aspect) {
    case Aspect::Latency:
        if (groups.size() > 1)
            return perAudience(QStringLiteral("p50"), e, base, groups, groupP50);
        return overall(QStringLiteral("p50"), v.latency.count ? v.latency.p50 : std::nan(""),
                       b.latency.count ? b.latency.p50 : std::nan(""));
    case Aspect::FirstEvent:
        if (groups.size() > 1)
            return perAudience(QStringLiteral("first event"), e, base, groups, groupFirstEvent);
        return overall(QStringLiteral("first event"), v.timeToFirstEvent.count ? v.timeToFirstEvent.p50 : std::nan(""),
                       b.timeToFirstEvent.count ? b.timeToFirstEvent.p50 : std::nan(""));
    case Aspect::Reconnects:
        return versus(QStringLiteral("reconnects"), double(v.streams.reconnects), double(b.streams.reconnects), Format::Count);
    case Aspect::Lost:
        return versus(QStringLiteral("lost"), double(v.events.lost), double(b.events.lost), Format::Count);
    case Aspect::OriginConnections:
        return versus(QStringLiteral("origin connections"), double(v.connections.originMax),
                      double(b.connections.originMax), Format::Count);
    case Aspect::Bytes:
        return versus(QStringLiteral("bytes"), double(v.bytes.total), double(b.bytes.total), Format::Bytes);
    case Aspect::Requests:
        return versus(QStringLiteral("requests"), double(v.requests), double(b.requests), Format::Count);
    case Aspect::Cost:
        if (!v.cost || !b.cost || !differsMeaningfully(v.cost->perHour, b.cost->perHour, Format::Milliseconds))
            return {};
        return QStringLiteral("cost/h %1 vs %2 %3")
            .arg(QString::number(v.cost->perHour, 'g', 3), QString::number(b.cost->perHour, 'g', 3), v.cost->currency);
    case Aspect::Starved:
        return versus(QStringLiteral("starved streams"), double(v.streams.starved), double(b.streams.starved), Format::Count);
    }
    return {};
}

} // namespace

QStringList Comparison::verdict() const
{
    QStringList lines;
    if (baseline < 0 || baseline >= entries.size())
        return lines;
    const Entry &base = entries.at(baseline);
    const QStringList groups = groupNames();
    const QList<Aspect> aspects = aspectsNamedBy(question);
    for (int i = 0; i < entries.size(); ++i) {
        if (i == baseline)
            continue;
        QStringList parts;
        for (Aspect aspect : aspects) {
            const QString text = aspectText(aspect, entries.at(i), base, groups);
            if (!text.isEmpty())
                parts << text;
        }
        if (parts.isEmpty())
            parts << QStringLiteral("no figure differs meaningfully");
        lines << QStringLiteral("%1 vs %2: %3").arg(entries.at(i).label, base.label, parts.join(QStringLiteral("; ")));
    }
    return lines;
}

namespace {

QString table(const std::vector<QStringList> &rows)
{
    std::vector<qsizetype> widths;
    for (const QStringList &row : rows) {
        widths.resize(std::max(widths.size(), std::size_t(row.size())), 0);
        for (qsizetype c = 0; c < row.size(); ++c)
            widths[std::size_t(c)] = std::max(widths[std::size_t(c)], row[c].size());
    }
    QString out;
    for (const QStringList &row : rows) {
        QStringList cells;
        for (qsizetype c = 0; c < row.size(); ++c)
            cells << (c == 0 ? row[c].leftJustified(widths[std::size_t(c)]) : row[c].rightJustified(widths[std::size_t(c)]));
        out += cells.join(QStringLiteral("  ")) + QLatin1Char('\n');
    }
    return out;
}

QString cell(double value, double base, const Figure &figure, bool isBaseline, bool best)
{
    QString text = formatValue(value, figure.format);
    if (!isBaseline) {
        QString delta = formatDelta(value, base, figure.format);
        if (delta.endsWith(QLatin1Char(')')))
            delta = delta.chopped(1).replace(QStringLiteral(" ("), QStringLiteral(", "));
        text += QStringLiteral(" (%1)").arg(delta);
    }
    return best ? text + QLatin1Char('*') : text;
}

void appendRows(std::vector<QStringList> &rows, const QString &prefix, const QList<Figure> &figures,
                const QList<QList<double>> &values, int baseline)
{
    for (int f = 0; f < figures.size(); ++f) {
        QList<double> column;
        for (const QList<double> &v : values)
            column << v.value(f, std::nan(""));
        const int best = bestIndex(column, figures.at(f));
        QStringList row{prefix + figures.at(f).header};
        for (int e = 0; e < column.size(); ++e)
            row << cell(column.at(e), column.value(baseline, std::nan("")), figures.at(f), e == baseline, e == best);
        rows.push_back(row);
    }
}

} // namespace

QString comparisonText(const Comparison &c)
{
    QString out;
    if (!c.scenarioName.isEmpty())
        out += c.scenarioName + QLatin1Char('\n');
    if (!c.question.isEmpty())
        out += QStringLiteral("question: ") + c.question + QLatin1Char('\n');
    for (const QString &line : c.verdict())
        out += QStringLiteral("verdict: ") + line + QLatin1Char('\n');
    QStringList header{QStringLiteral("figure")};
    for (int e = 0; e < c.entries.size(); ++e)
        header << (e == c.baseline ? c.entries.at(e).label + QStringLiteral(" (baseline)") : c.entries.at(e).label);
    std::vector<QStringList> rows{header};
    QList<QList<double>> totals;
    for (const Entry &e : c.entries)
        totals << totalValues(e.result);
    appendRows(rows, {}, totalFigures(), totals, c.baseline);
    out += QLatin1Char('\n') + table(rows);
    const QStringList groups = c.groupNames();
    if (groups.size() > 1) {
        std::vector<QStringList> groupRows{QStringList{QStringLiteral("audience · figure")} + header.mid(1)};
        for (const QString &name : groups) {
            QList<QList<double>> values;
            for (const Entry &e : c.entries) {
                QList<double> v;
                for (const metrics::GroupResult &g : e.result.groups)
                    if (g.name == name)
                        v = groupValues(g);
                values << v;
            }
            appendRows(groupRows, name + QStringLiteral(" · "), groupFigures(), values, c.baseline);
        }
        out += QLatin1Char('\n') + table(groupRows);
    }
    out += QStringLiteral("\n(Δ and % against the baseline; * best, where it beats every other value by 5% or more)\n");
    return out;
}

} // namespace edgesse::runs
