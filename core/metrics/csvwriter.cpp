#include "core/metrics/csvwriter.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include "core/io/outputset.h"

#include <cmath>
#include <set>

namespace edgesse::metrics {

namespace csv {

namespace {

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP CSV injection);
// a plain number such as -5 is only a number.
bool readAsFormula(const QString &text)
{
    static const QString starts = QStringLiteral("=+-@\t\r");
    if (text.isEmpty() || !starts.contains(text.front()))
        return false;
    bool isNumber = false;
    static_cast<void>(text.toDouble(&isNumber));
    return !isNumber || text.front() == u'=' || text.front() == u'@' || text.front() == u'\t' || text.front() == u'\r';
}

} // namespace

QByteArray field(const QString &text)
{
    QByteArray bytes = text.toUtf8();
    if (readAsFormula(text))
        bytes.prepend('\'');
    if (!bytes.contains(',') && !bytes.contains('"') && !bytes.contains('\n') && !bytes.contains('\r'))
        return bytes;
    bytes.replace("\"", "\"\"");
    return '"' + bytes + '"';
}

QByteArray number(double value, int decimals)
{
    if (!std::isfinite(value))
        return {};
    QByteArray text = QByteArray::number(value, 'f', decimals);
    if (text.contains('.')) {
        while (text.endsWith('0'))
            text.chop(1);
        if (text.endsWith('.'))
            text.chop(1);
    }
    if (text == "-0")
        text = "0";
    return text;
}

QByteArray number(std::uint64_t value)
{
    return QByteArray::number(quint64(value));
}

QByteArray row(const QList<QByteArray> &fields)
{
    QByteArray line;
    for (qsizetype i = 0; i < fields.size(); ++i) {
        if (i)
            line += ',';
        line += fields[i];
    }
    line += "\r\n";
    return line;
}

namespace {

QByteArray header(std::initializer_list<const char *> names)
{
    QList<QByteArray> fields;
    for (const char *name : names)
        fields.append(QByteArray(name));
    return row(fields);
}

// Nothing measured: empty cells (NaN to pandas, blank to a spreadsheet), not zeros.
void appendLatency(QList<QByteArray> &f, const LatencySummary &s)
{
    if (s.count == 0) {
        f << number(s.count) << QByteArray() << QByteArray() << QByteArray() << QByteArray() << QByteArray() << QByteArray();
        return;
    }
    f << number(s.count) << number(s.mean) << number(s.p50) << number(s.p90) << number(s.p99) << number(s.p999)
      << number(s.max);
}

void appendPercentiles(QList<QByteArray> &f, const PercentileSummary &s)
{
    if (s.count == 0) {
        f << QByteArray() << QByteArray() << QByteArray();
        return;
    }
    f << number(s.p50) << number(s.p99) << number(s.max);
}

void appendEvents(QList<QByteArray> &f, const EventCounts &e)
{
    f << number(e.published) << number(e.expected) << number(e.delivered) << number(e.lost) << number(e.duplicated);
}

void appendStreams(QList<QByteArray> &f, const StreamCounts &s)
{
    f << number(s.total) << number(s.starved) << number(s.reconnects);
}

// Error percentiles, unmatched events, and trusted as true/false (empty: not judged).
void appendError(QList<QByteArray> &f, const ErrorSummary &e)
{
    appendPercentiles(f, e.percentiles);
    f << number(e.unmatched) << (e.trusted ? QByteArray(*e.trusted ? "true" : "false") : QByteArray());
}

} // namespace

QByteArray summary(const RunResult &result)
{
    QByteArray out = header({"variant", "duration_s", "latency_count", "latency_mean_ms", "latency_p50_ms",
                             "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms",
                             "overhead_p50_ms", "overhead_p99_ms", "overhead_max_ms", "ttfe_p50_ms", "ttfe_p99_ms",
                             "ttfe_max_ms", "events_published", "events_expected", "events_delivered",
                             "events_lost", "events_duplicated", "streams_total", "streams_starved", "reconnects",
                             "connections_origin_max", "bytes_total", "bytes_heartbeat", "requests", "cost_run",
                             "cost_per_hour", "cost_currency", "warnings", "error_p50_ms", "error_p99_ms",
                             "error_max_ms", "error_unmatched", "trusted", "tolerance_ms", "stalled_stream_s"});
    for (const VariantResult &v : result.variants) {
        QList<QByteArray> f{field(v.name), number(v.durationS)};
        appendLatency(f, v.latency);
        appendPercentiles(f, v.overhead);
        appendPercentiles(f, v.timeToFirstEvent);
        appendEvents(f, v.events);
        appendStreams(f, v.streams);
        f << number(v.connections.originMax) << number(v.bytes.total) << number(v.bytes.heartbeat)
          << number(v.requests);
        if (v.cost)
            f << number(v.cost->run, 6) << number(v.cost->perHour, 6) << field(v.cost->currency);
        else
            f << QByteArray() << QByteArray() << QByteArray();
        f << field(v.warnings.join(QStringLiteral("; ")));
        appendError(f, v.error);
        f << number(v.toleranceMs) << number(v.stalledStreamSeconds, 3);
        out += row(f);
    }
    return out;
}

QByteArray groups(const RunResult &result)
{
    QByteArray out = header({"variant", "group", "latency_count", "latency_mean_ms", "latency_p50_ms",
                             "latency_p90_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "ttfe_p50_ms",
                             "ttfe_p99_ms", "ttfe_max_ms", "events_published", "events_expected",
                             "events_delivered", "events_lost", "events_duplicated", "streams_total",
                             "streams_starved", "reconnects", "error_p50_ms", "error_p99_ms", "error_max_ms",
                             "error_unmatched", "trusted", "protocol", "stalled_stream_s"});
    for (const VariantResult &v : result.variants) {
        for (const GroupResult &g : v.groups) {
            QList<QByteArray> f{field(v.name), field(g.name)};
            appendLatency(f, g.latency);
            appendPercentiles(f, g.timeToFirstEvent);
            appendEvents(f, g.events);
            appendStreams(f, g.streams);
            appendError(f, g.error);
            f << field(g.protocol) << number(g.stalledStreamSeconds, 3);
            out += row(f);
        }
    }
    return out;
}

QByteArray links(const RunResult &result)
{
    QByteArray out = header({"variant", "link", "from", "to", "bytes_down", "bytes_up", "bytes_total",
                             "bytes_heartbeat", "connections", "reaps", "datagrams_lost", "datagrams_queue_or_down",
                             "datagrams_garbage"});
    for (const VariantResult &v : result.variants) {
        for (const LinkResult &l : v.links) {
            QList<QByteArray> f{field(v.name), field(l.name), field(l.from), field(l.to), number(l.bytesDown),
                                number(l.bytesUp), number(l.totalBytes()), number(l.heartbeatBytes), number(l.connections),
                                number(l.reaps)};
            if (l.datagramsDropped)
                f << number(l.datagramsDropped->loss) << number(l.datagramsDropped->queueOrDown)
                  << number(l.datagramsDropped->garbage);
            else
                f << QByteArray() << QByteArray() << QByteArray();
            out += row(f);
        }
    }
    return out;
}

QByteArray streams(const RunResult &result)
{
    QList<QByteArray> names{"variant", "group", "client", "stream", "node", "expected", "delivered", "lost",
                            "duplicated", "early", "reconnects", "starved", "ttfe_ms", "latency_p50_ms",
                            "latency_p99_ms", "latency_max_ms"};
    for (std::size_t i = 0; i < kLossCauseCount; ++i)
        names.append("lost_" + lossCauseName(LossCause(i)).toUtf8());
    for (std::size_t i = 0; i < kDisconnectCauseCount; ++i)
        names.append("reconnects_" + disconnectCauseName(DisconnectCause(i)).toUtf8());
    QByteArray out = row(names);
    for (const VariantResult &v : result.variants) {
        for (const StreamSummary &s : v.streamSummaries) {
            const StreamAccount &a = s.account;
            QList<QByteArray> f{field(v.name), field(s.group), number(std::uint64_t(s.client)),
                                number(std::uint64_t(s.stream)), field(s.node), number(a.expected),
                                number(a.delivered), number(a.lost), number(a.duplicated), number(a.early),
                                number(a.reconnects), QByteArray(s.starved ? "1" : "0"),
                                s.timeToFirstEventMs < 0 ? QByteArray() : number(s.timeToFirstEventMs),
                                number(s.latencyP50Ms), number(s.latencyP99Ms), number(s.latencyMaxMs)};
            for (std::uint64_t n : a.lostByCause)
                f << number(n);
            for (std::uint64_t n : a.reconnectsByCause)
                f << number(n);
            out += row(f);
        }
    }
    return out;
}

QByteArray timeSeries(const RunResult &result)
{
    // One column per channel name seen in any variant, in first-seen order.
    QStringList names;
    for (const VariantResult &v : result.variants) {
        for (const SeriesChannel &c : v.timeSeries.channels()) {
            if (!names.contains(c.name))
                names.append(c.name);
        }
    }
    QList<QByteArray> head{"variant", "t_s"};
    for (const QString &name : names)
        head << field(name);
    QByteArray out = row(head);
    for (const VariantResult &v : result.variants) {
        const std::vector<double> times = v.timeSeries.viewTimes();
        std::vector<std::vector<double>> columns;
        for (const QString &name : names)
            columns.push_back(v.timeSeries.viewValues(v.timeSeries.channelIndex(name)));
        for (std::size_t r = 0; r < times.size(); ++r) {
            QList<QByteArray> f{field(v.name), number(times[r])};
            for (const auto &column : columns)
                f << (r < column.size() ? number(column[r]) : QByteArray());
            out += row(f);
        }
    }
    return out;
}

QByteArray samples(const RunResult &result)
{
    QByteArray out = header({"variant", "group", "client", "stream", "seq", "published_us", "received_us",
                             "latency_us"});
    for (const VariantResult &v : result.variants) {
        const QByteArray variant = field(v.name);
        for (const EventSample &s : v.samples) {
            out += row({variant, field(s.group), QByteArray::number(s.client), QByteArray::number(s.stream),
                        number(s.seq), QByteArray::number(qint64(s.publishedUs)),
                        QByteArray::number(qint64(s.receivedUs)), QByteArray::number(qint64(s.latencyUs()))});
        }
    }
    return out;
}

} // namespace csv

QStringList resultFileNames()
{
    return {QStringLiteral("results.json"), QStringLiteral("summary.csv"),    QStringLiteral("groups.csv"),
            QStringLiteral("links.csv"),    QStringLiteral("streams.csv"),    QStringLiteral("timeseries.csv"),
            QStringLiteral("samples.csv")};
}

std::vector<std::pair<QString, QByteArray>> resultFiles(const RunResult &result)
{
    bool anySamples = false;
    for (const VariantResult &v : result.variants)
        anySamples = anySamples || !v.samples.empty();

    std::vector<std::pair<QString, QByteArray>> files;
    files.emplace_back(QStringLiteral("results.json"), QJsonDocument(result.toJson()).toJson(QJsonDocument::Indented));
    files.emplace_back(QStringLiteral("summary.csv"), csv::summary(result));
    files.emplace_back(QStringLiteral("groups.csv"), csv::groups(result));
    files.emplace_back(QStringLiteral("links.csv"), csv::links(result));
    files.emplace_back(QStringLiteral("streams.csv"), csv::streams(result));
    files.emplace_back(QStringLiteral("timeseries.csv"), csv::timeSeries(result));
    if (anySamples)
        files.emplace_back(QStringLiteral("samples.csv"), csv::samples(result));
    return files;
}

QStringList writeResultFiles(const RunResult &result, const QString &dir, QString *error)
{
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = QStringLiteral("cannot create the directory %1: check the path and its permissions").arg(dir);
        return {};
    }
    io::OutputSet set(dir);
    for (const auto &[name, bytes] : resultFiles(result))
        if (!set.add(name, bytes))
            break;
    if (!set.commit()) {
        if (error)
            *error = set.error();
        return {};
    }
    return set.paths();
}

} // namespace edgesse::metrics
