#include "app/runs/comparison.h"

#include <QLocale>
#include <QSet>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace edgesse::runs {

namespace {

constexpr double kMeaningfulShare = 0.05;
const QString kMinus = QStringLiteral("\u2212");

double measured(double value, std::uint64_t samples)
{
    return samples == 0 ? std::nan("") : value;
}

double resolution(Format format)
{
    switch (format) {
    case Format::Milliseconds:
    case Format::Percent: return 0.1;
    case Format::Count:
    case Format::Bytes: return 1;
    }
    return 0;
}

QString number(double value, int decimals)
{
    return QLocale::c().toString(value, 'f', decimals);
}

QString signedText(double value, const QString &text)
{
    if (value > 0)
        return QStringLiteral("+") + text;
    if (value < 0)
        return kMinus + text;
    return text;
}

QString bytesText(double value)
{
    static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
    double v = std::abs(value);
    int unit = 0;
    while (v >= 1024 && unit < 4) {
        v /= 1024;
        ++unit;
    }
    return QStringLiteral("%1 %2").arg(number(v, unit == 0 ? 0 : 1), QLatin1String(units[unit]));
}

QString magnitude(double value, Format format)
{
    const double v = std::abs(value);
    switch (format) {
    case Format::Milliseconds: return number(v, v < 10 ? 2 : 1);
    case Format::Count: return QLocale().toString(qulonglong(std::llround(v)));
    case Format::Bytes: return bytesText(v);
    case Format::Percent: return number(v, v >= 99.95 || v == 0 ? 0 : 1) + QLatin1Char('%');
    }
    return {};
}

double deliveredShare(const metrics::EventCounts &events)
{
    return events.expected == 0 ? std::nan("") : 100.0 * double(events.delivered) / double(events.expected);
}

} // namespace

QList<Figure> totalFigures()
{
    return {
        {QStringLiteral("p50 ms"), QStringLiteral("Median publish-to-receipt latency")},
        {QStringLiteral("p90 ms"), QStringLiteral("90th percentile latency")},
        {QStringLiteral("p99 ms"), QStringLiteral("99th percentile latency")},
        {QStringLiteral("p99.9 ms"), QStringLiteral("99.9th percentile latency")},
        {QStringLiteral("max ms"), QStringLiteral("Worst latency seen")},
        {QStringLiteral("first event p50 ms"), QStringLiteral("Median time from opening a stream to its first event")},
        {QStringLiteral("delivered"), QStringLiteral("Events delivered, over every stream (depends on how many were expected)"),
         false, Format::Count, false},
        {QStringLiteral("delivered %"), QStringLiteral("Share of the expected events that were delivered"), false,
         Format::Percent},
        {QStringLiteral("lost"), QStringLiteral("Events a stream should have received and never did"), true, Format::Count},
        {QStringLiteral("duplicated"), QStringLiteral("Events a stream received more than once"), true, Format::Count},
        {QStringLiteral("reconnects"), QStringLiteral("EventSource reconnections (gateway reaps, server closes, errors)"), true,
         Format::Count},
        {QStringLiteral("starved"), QStringLiteral("Streams that waited for a connection (HTTP/1.1's six per origin)"), true,
         Format::Count},
        {QStringLiteral("origin conn"), QStringLiteral("Most connections open at the origin at once"), true, Format::Count},
        {QStringLiteral("requests"), QStringLiteral("HTTP requests made: stream opens, reconnects, polls"), true, Format::Count},
        {QStringLiteral("bytes"), QStringLiteral("Bytes over every link, both directions"), true, Format::Bytes},
        {QStringLiteral("overhead p99 ms"), QStringLiteral("Measured minus configured latency: jitter, loss and the machine"), true},
        {QStringLiteral("error p99 ms"), QStringLiteral("Measured minus what the model drew for each event: the simulator's own error"),
         true},
        {QStringLiteral("untrusted groups"), QStringLiteral("Audiences whose error p99 is above the run's tolerance"), true,
         Format::Count},
        {QStringLiteral("stalled stream-s"),
         QStringLiteral("Seconds streams waited behind a loss another stream of the same browser met (head-of-line blocking)")},
    };
}

// Nothing judged (no error measured) is not zero.
double untrustedGroups(const metrics::VariantResult &v)
{
    if (!v.error.trusted)
        return std::numeric_limits<double>::quiet_NaN();
    return double(std::count_if(v.groups.begin(), v.groups.end(),
                                [](const metrics::GroupResult &g) { return g.error.trusted == false; }));
}

QList<double> totalValues(const metrics::VariantResult &v)
{
    const std::uint64_t n = v.latency.count;
    return {measured(v.latency.p50, n),
            measured(v.latency.p90, n),
            measured(v.latency.p99, n),
            measured(v.latency.p999, n),
            measured(v.latency.max, n),
            measured(v.timeToFirstEvent.p50, v.timeToFirstEvent.count),
            double(v.events.delivered),
            deliveredShare(v.events),
            double(v.events.lost),
            double(v.events.duplicated),
            double(v.streams.reconnects),
            double(v.streams.starved),
            double(v.connections.originMax),
            double(v.requests),
            double(v.bytes.total),
            measured(v.overhead.p99, v.overhead.count),
            measured(v.error.percentiles.p99, v.error.percentiles.count),
            untrustedGroups(v),
            v.stalledStreamSeconds};
}

QList<Figure> groupFigures()
{
    return {
        {QStringLiteral("p50 ms"), QStringLiteral("Median latency of this audience")},
        {QStringLiteral("p99 ms"), QStringLiteral("99th percentile latency of this audience")},
        {QStringLiteral("first event p50 ms"), QStringLiteral("Median time to the first event")},
        {QStringLiteral("delivered %"), QStringLiteral("Share of the expected events delivered"), false, Format::Percent},
        {QStringLiteral("lost"), QStringLiteral("Expected events never received"), true, Format::Count},
        {QStringLiteral("reconnects"), QStringLiteral("EventSource reconnections"), true, Format::Count},
        {QStringLiteral("error p99 ms"), QStringLiteral("This audience's simulator error; trusted when within the tolerance")},
        {QStringLiteral("stalled stream-s"), QStringLiteral("Seconds its streams waited behind another stream's loss")},
    };
}

QList<double> groupValues(const metrics::GroupResult &g)
{
    return {measured(g.latency.p50, g.latency.count), measured(g.latency.p99, g.latency.count),
            measured(g.timeToFirstEvent.p50, g.timeToFirstEvent.count), deliveredShare(g.events), double(g.events.lost),
            double(g.streams.reconnects), measured(g.error.percentiles.p99, g.error.percentiles.count),
            g.stalledStreamSeconds};
}

QString protocolLabel(const metrics::VariantResult &variant)
{
    QStringList labels;
    for (const metrics::GroupResult &g : variant.groups) {
        QString label = g.protocol;
        if (label.startsWith(QStringLiteral("http")))
            label = QStringLiteral("h") + label.mid(4);
        if (!label.isEmpty() && !labels.contains(label))
            labels.append(label);
    }
    labels.sort();
    return labels.join(QStringLiteral(" / "));
}

QString formatValue(double value, Format format)
{
    if (std::isnan(value))
        return QStringLiteral("—");
    return (value < 0 ? kMinus : QString()) + magnitude(value, format);
}

QString formatDelta(double value, double base, Format format)
{
    if (std::isnan(value) || std::isnan(base))
        return QStringLiteral("—");
    const double delta = value - base;
    if (std::abs(delta) < resolution(format) / 2)
        return QStringLiteral("=");
    QString text = signedText(delta, magnitude(delta, format));
    if (format == Format::Percent)
        return text.chopped(1) + QStringLiteral(" pt");
    if (base != 0)
        text += QStringLiteral(" (%1)").arg(signedText(delta, number(std::abs(100.0 * delta / base), 1) + QLatin1Char('%')));
    return text;
}

bool differsMeaningfully(double a, double b, Format format)
{
    if (std::isnan(a) || std::isnan(b))
        return false;
    const double delta = std::abs(a - b);
    return delta >= resolution(format) && delta >= kMeaningfulShare * std::max(std::abs(a), std::abs(b));
}

int bestIndex(const QList<double> &values, const Figure &figure)
{
    if (!figure.ranked)
        return -1;
    int best = -1;
    for (int i = 0; i < values.size(); ++i) {
        if (std::isnan(values.at(i)))
            continue;
        if (best < 0 || (figure.lowerIsBetter ? values.at(i) < values.at(best) : values.at(i) > values.at(best)))
            best = i;
    }
    if (best < 0)
        return -1;
    // Marked only when it beats every other measured value meaningfully.
    for (int i = 0; i < values.size(); ++i) {
        if (i != best && !std::isnan(values.at(i)) && !differsMeaningfully(values.at(i), values.at(best), figure.format))
            return -1;
    }
    return best;
}

int Comparison::indexOf(const QString &name) const
{
    for (int i = 0; i < entries.size(); ++i)
        if (entries.at(i).label == name)
            return i;
    for (int i = 0; i < entries.size(); ++i)
        if (entries.at(i).variant == name)
            return i;
    return -1;
}

QStringList Comparison::groupNames() const
{
    QStringList names;
    for (const Entry &e : entries)
        for (const metrics::GroupResult &g : e.result.groups)
            if (!names.contains(g.name))
                names.append(g.name);
    return names;
}

metrics::RunResult Comparison::asRunResult() const
{
    metrics::RunResult r;
    r.scenarioName = scenarioName;
    r.scenarioQuestion = question;
    r.scenarioVariants = scenarioVariants;
    for (const Entry &e : entries) {
        metrics::VariantResult v = e.result;
        v.name = e.label;
        r.variants.push_back(std::move(v));
    }
    return r;
}

Comparison compare(const QList<metrics::RunResult> &runs)
{
    Comparison c;
    std::map<QString, int> runsHaving;
    for (const metrics::RunResult &run : runs) {
        if (c.scenarioName.isEmpty())
            c.scenarioName = run.scenarioName;
        if (c.question.isEmpty())
            c.question = run.scenarioQuestion;
        for (const QString &name : run.scenarioVariants)
            if (!c.scenarioVariants.contains(name))
                c.scenarioVariants.append(name);
        for (const metrics::VariantResult &v : run.variants)
            ++runsHaving[v.name];
    }
    for (const metrics::RunResult &run : runs) {
        const QString when = run.startedAt.isEmpty() ? run.scenarioFile : run.startedAt.mid(11, 8);
        for (const metrics::VariantResult &v : run.variants) {
            QString label = v.name;
            if (runsHaving[v.name] > 1)
                label += QStringLiteral(" · ") + when;
            while (c.indexOf(label) >= 0 && c.entries.at(c.indexOf(label)).label == label)
                label += QLatin1Char('\'');
            c.entries.append({label, v.name, run.startedAt, v});
            if (!c.scenarioVariants.contains(v.name))
                c.scenarioVariants.append(v.name);
        }
    }
    return c;
}

} // namespace edgesse::runs
