#include "core/metrics/runresult.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cmath>
#include <limits>

namespace edgesse::metrics {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

QJsonValue count(std::uint64_t value)
{
    return QJsonValue(qint64(value));
}

// Milliseconds rounded to the microsecond, so files do not carry float noise.
QJsonValue ms(double value)
{
    if (!std::isfinite(value))
        return QJsonValue(QJsonValue::Null);
    return QJsonValue(std::round(value * 1000.0) / 1000.0);
}

template <typename T>
QJsonObject countMap(const std::map<QString, T> &map)
{
    QJsonObject object;
    for (const auto &[key, value] : map)
        object.insert(key, QJsonValue(double(value)));
    return object;
}

QJsonObject toJson(const LatencySummary &s)
{
    return {{QStringLiteral("count"), count(s.count)}, {QStringLiteral("mean"), ms(s.mean)},
            {QStringLiteral("p50"), ms(s.p50)},        {QStringLiteral("p90"), ms(s.p90)},
            {QStringLiteral("p99"), ms(s.p99)},        {QStringLiteral("p999"), ms(s.p999)},
            {QStringLiteral("max"), ms(s.max)}};
}

QJsonObject toJson(const PercentileSummary &s)
{
    return {{QStringLiteral("count"), count(s.count)}, {QStringLiteral("p50"), ms(s.p50)}, {QStringLiteral("p99"), ms(s.p99)},
            {QStringLiteral("max"), ms(s.max)}};
}

QJsonObject toJson(const ErrorSummary &e)
{
    QJsonObject o = toJson(e.percentiles);
    o.insert(QStringLiteral("min"), ms(e.minMs));
    o.insert(QStringLiteral("unmatched"), count(e.unmatched));
    return o;
}

QJsonValue datagramDropsJson(const std::optional<LinkResult::DatagramDrops> &d)
{
    if (!d)
        return QJsonValue(QJsonValue::Null);
    return QJsonObject{{QStringLiteral("loss"), count(d->loss)},
                       {QStringLiteral("queue_or_down"), count(d->queueOrDown)},
                       {QStringLiteral("garbage"), count(d->garbage)},
                       {QStringLiteral("total"), count(d->total())}};
}

QJsonValue trustedJson(const ErrorSummary &e)
{
    return e.trusted ? QJsonValue(*e.trusted) : QJsonValue(QJsonValue::Null);
}

QJsonObject toJson(const EventCounts &e)
{
    return {{QStringLiteral("published"), count(e.published)}, {QStringLiteral("expected"), count(e.expected)},
            {QStringLiteral("delivered"), count(e.delivered)}, {QStringLiteral("lost"), count(e.lost)},
            {QStringLiteral("duplicated"), count(e.duplicated)},
            {QStringLiteral("lost_by_cause"), countMap(e.lostByCause)}};
}

QJsonObject toJson(const StreamCounts &s)
{
    return {{QStringLiteral("total"), count(s.total)}, {QStringLiteral("starved"), count(s.starved)},
            {QStringLiteral("never_served"), count(s.neverServed)}, {QStringLiteral("rejected"), count(s.rejected)},
            {QStringLiteral("reconnects"), count(s.reconnects)},
            {QStringLiteral("reconnects_by_cause"), countMap(s.reconnectsByCause)}};
}

QJsonArray pointsToJson(const QList<QPointF> &points)
{
    QJsonArray array;
    for (const QPointF &p : points)
        array.append(QJsonArray{ms(p.x()), QJsonValue(std::round(p.y() * 1e6) / 1e6)});
    return array;
}

QJsonObject toJson(const TimeSeries &series)
{
    QJsonArray times;
    for (double t : series.viewTimes())
        times.append(QJsonValue(std::round(t * 1000.0) / 1000.0));
    QJsonArray channels;
    for (int c = 0; c < series.channelCount(); ++c) {
        const SeriesChannel &channel = series.channels()[std::size_t(c)];
        QJsonArray values;
        for (double v : series.viewValues(c))
            values.append(std::isfinite(v) ? QJsonValue(std::round(v * 1000.0) / 1000.0) : QJsonValue(QJsonValue::Null));
        channels.append(QJsonObject{{QStringLiteral("name"), channel.name},
                                    {QStringLiteral("unit"), channel.unit},
                                    {QStringLiteral("fold"), foldName(channel.fold)},
                                    {QStringLiteral("values"), values}});
    }
    return {{QStringLiteral("interval_ms"), qint64(series.viewInterval().count())},
            {QStringLiteral("t_s"), times},
            {QStringLiteral("channels"), channels}};
}

// Reading: every accessor records the first problem (with the JSON path) in `error`.
class Reader
{
public:
    QString error;

    QJsonObject object(const QJsonObject &parent, const QString &key, const QString &path, bool required = true)
    {
        const QJsonValue value = parent.value(key);
        if (value.isObject())
            return value.toObject();
        if (required || !(value.isUndefined() || value.isNull()))
            fail(path + QLatin1Char('.') + key, QStringLiteral("an object"));
        return {};
    }
    QJsonArray array(const QJsonObject &parent, const QString &key, const QString &path, bool required = true)
    {
        const QJsonValue value = parent.value(key);
        if (value.isArray())
            return value.toArray();
        if (required || !(value.isUndefined() || value.isNull()))
            fail(path + QLatin1Char('.') + key, QStringLiteral("an array"));
        return {};
    }
    double number(const QJsonObject &parent, const QString &key, const QString &path, bool required = true)
    {
        const QJsonValue value = parent.value(key);
        if (value.isDouble())
            return value.toDouble();
        if (value.isNull())
            return kNaN;
        if (required || !value.isUndefined())
            fail(path + QLatin1Char('.') + key, QStringLiteral("a number"));
        return 0;
    }
    std::uint64_t counter(const QJsonObject &parent, const QString &key, const QString &path, bool required = true)
    {
        const double value = number(parent, key, path, required);
        if (!(value >= 0)) {
            if (std::isnan(value) || value < 0)
                fail(path + QLatin1Char('.') + key, QStringLiteral("a count (a number >= 0)"));
            return 0;
        }
        return std::uint64_t(value);
    }
    QString string(const QJsonObject &parent, const QString &key, const QString &path, bool required = true)
    {
        const QJsonValue value = parent.value(key);
        if (value.isString())
            return value.toString();
        if (required || !(value.isUndefined() || value.isNull()))
            fail(path + QLatin1Char('.') + key, QStringLiteral("a string"));
        return {};
    }
    template <typename T>
    std::map<QString, T> map(const QJsonObject &parent, const QString &key, const QString &path)
    {
        std::map<QString, T> result;
        const QJsonObject object = this->object(parent, key, path, false);
        for (auto it = object.begin(); it != object.end(); ++it) {
            if (!it.value().isDouble()) {
                fail(path + QLatin1Char('.') + key + QLatin1Char('.') + it.key(), QStringLiteral("a number"));
                continue;
            }
            result[it.key()] = T(it.value().toDouble());
        }
        return result;
    }

    LatencySummary latency(const QJsonObject &parent, const QString &key, const QString &path)
    {
        const QJsonObject o = object(parent, key, path);
        const QString at = path + QLatin1Char('.') + key;
        LatencySummary s;
        s.count = counter(o, QStringLiteral("count"), at, false);
        s.mean = number(o, QStringLiteral("mean"), at, false);
        s.p50 = number(o, QStringLiteral("p50"), at);
        s.p90 = number(o, QStringLiteral("p90"), at, false);
        s.p99 = number(o, QStringLiteral("p99"), at);
        s.p999 = number(o, QStringLiteral("p999"), at, false);
        s.max = number(o, QStringLiteral("max"), at, false);
        return s;
    }
    PercentileSummary percentiles(const QJsonObject &parent, const QString &key, const QString &path, bool required)
    {
        const QJsonObject o = object(parent, key, path, required);
        const QString at = path + QLatin1Char('.') + key;
        PercentileSummary s;
        if (o.isEmpty())
            return s;
        s.p50 = number(o, QStringLiteral("p50"), at);
        s.p99 = number(o, QStringLiteral("p99"), at);
        s.max = number(o, QStringLiteral("max"), at);
        // Files from before the count was written: a summary with any value measured something.
        s.count = o.contains(QStringLiteral("count")) ? counter(o, QStringLiteral("count"), at)
                                                      : (s.p50 > 0 || s.p99 > 0 || s.max > 0 ? 1 : 0);
        return s;
    }
    // "error_ms" and "trusted" (files from before them: nothing measured, not judged).
    ErrorSummary errorSummary(const QJsonObject &parent, const QString &path)
    {
        ErrorSummary e;
        e.percentiles = percentiles(parent, QStringLiteral("error_ms"), path, false);
        const QJsonObject o = parent.value(QStringLiteral("error_ms")).toObject();
        if (o.contains(QStringLiteral("min")))
            e.minMs = number(o, QStringLiteral("min"), path + QStringLiteral(".error_ms"));
        if (o.contains(QStringLiteral("unmatched")))
            e.unmatched = counter(o, QStringLiteral("unmatched"), path + QStringLiteral(".error_ms"));
        const QJsonValue t = parent.value(QStringLiteral("trusted"));
        if (t.isBool())
            e.trusted = t.toBool();
        else if (!t.isNull() && !t.isUndefined())
            fail(path + QStringLiteral(".trusted"), QStringLiteral("true, false or null"));
        return e;
    }
    EventCounts events(const QJsonObject &parent, const QString &path, bool required)
    {
        const QJsonObject o = object(parent, QStringLiteral("events"), path, required);
        const QString at = path + QStringLiteral(".events");
        EventCounts e;
        if (o.isEmpty())
            return e;
        e.published = counter(o, QStringLiteral("published"), at, false);
        e.expected = counter(o, QStringLiteral("expected"), at);
        e.delivered = counter(o, QStringLiteral("delivered"), at);
        e.lost = counter(o, QStringLiteral("lost"), at);
        e.duplicated = counter(o, QStringLiteral("duplicated"), at);
        e.lostByCause = map<std::uint64_t>(o, QStringLiteral("lost_by_cause"), at);
        return e;
    }
    StreamCounts streams(const QJsonObject &parent, const QString &path, bool required)
    {
        const QJsonObject o = object(parent, QStringLiteral("streams"), path, required);
        const QString at = path + QStringLiteral(".streams");
        StreamCounts s;
        if (o.isEmpty())
            return s;
        s.total = counter(o, QStringLiteral("total"), at);
        s.starved = counter(o, QStringLiteral("starved"), at, false);
        s.neverServed = counter(o, QStringLiteral("never_served"), at, false);
        s.rejected = counter(o, QStringLiteral("rejected"), at, false);
        s.reconnects = counter(o, QStringLiteral("reconnects"), at);
        s.reconnectsByCause = map<std::uint64_t>(o, QStringLiteral("reconnects_by_cause"), at);
        return s;
    }
    QList<QPointF> points(const QJsonObject &parent, const QString &key, const QString &path)
    {
        QList<QPointF> result;
        const QJsonArray a = array(parent, key, path, false);
        for (qsizetype i = 0; i < a.size(); ++i) {
            const QJsonArray pair = a.at(i).toArray();
            if (pair.size() != 2 || !pair.at(0).isDouble() || !pair.at(1).isDouble()) {
                fail(path + QLatin1Char('.') + key + QStringLiteral("[%1]").arg(i), QStringLiteral("a [number, number] pair"));
                break;
            }
            result.append(QPointF(pair.at(0).toDouble(), pair.at(1).toDouble()));
        }
        return result;
    }
    TimeSeries timeSeries(const QJsonObject &parent, const QString &path)
    {
        const QJsonObject o = object(parent, QStringLiteral("time_series"), path, false);
        if (o.isEmpty())
            return TimeSeries();
        const QString at = path + QStringLiteral(".time_series");
        const double interval = number(o, QStringLiteral("interval_ms"), at);
        if (!(interval >= 1)) {
            fail(at + QStringLiteral(".interval_ms"), QStringLiteral("a number >= 1"));
            return TimeSeries();
        }
        std::vector<SeriesChannel> channels;
        std::vector<std::vector<double>> columns;
        const QJsonArray list = array(o, QStringLiteral("channels"), at);
        for (qsizetype i = 0; i < list.size(); ++i) {
            const QString cat = at + QStringLiteral(".channels[%1]").arg(i);
            const QJsonObject c = list.at(i).toObject();
            channels.push_back({string(c, QStringLiteral("name"), cat), string(c, QStringLiteral("unit"), cat, false),
                                foldFromName(string(c, QStringLiteral("fold"), cat, false))});
            std::vector<double> column;
            for (const QJsonValue v : array(c, QStringLiteral("values"), cat))
                column.push_back(v.isDouble() ? v.toDouble() : kNaN);
            columns.push_back(std::move(column));
        }
        return TimeSeries::fromView(std::chrono::milliseconds(qint64(interval)), channels, columns);
    }

private:
    void fail(const QString &path, const QString &what)
    {
        if (error.isEmpty())
            error = QStringLiteral("%1 should be %2").arg(path, what);
    }
};

} // namespace

LatencySummary LatencySummary::from(const LatencyHistogram &h)
{
    LatencySummary s;
    s.count = h.count();
    s.mean = h.meanUs() / 1000.0;
    s.p50 = h.percentileMs(50);
    s.p90 = h.percentileMs(90);
    s.p99 = h.percentileMs(99);
    s.p999 = h.percentileMs(99.9);
    s.max = double(h.maxUs()) / 1000.0;
    return s;
}

PercentileSummary PercentileSummary::from(const LatencyHistogram &h)
{
    return {h.count(), h.percentileMs(50), h.percentileMs(99), double(h.maxUs()) / 1000.0};
}

void EventCounts::add(const StreamAccount &account)
{
    expected += account.expected;
    delivered += account.delivered;
    lost += account.lost;
    duplicated += account.duplicated;
    for (std::size_t i = 0; i < kLossCauseCount; ++i) {
        if (account.lostByCause[i])
            lostByCause[lossCauseName(LossCause(i))] += account.lostByCause[i];
    }
}

void StreamCounts::add(const StreamAccount &account)
{
    reconnects += account.reconnects;
    for (std::size_t i = 0; i < kDisconnectCauseCount; ++i) {
        if (account.reconnectsByCause[i])
            reconnectsByCause[disconnectCauseName(DisconnectCause(i))] += account.reconnectsByCause[i];
    }
}

void VariantResult::setLatency(const LatencyHistogram &histogram)
{
    latency = LatencySummary::from(histogram);
    latencyCdf = histogram.cdfMs();
}

void ErrorSummary::judge(double toleranceMs)
{
    if (percentiles.count == 0)
        trusted.reset();
    else
        trusted = percentiles.p99 <= toleranceMs;
}

void VariantResult::checkTrust()
{
    warnings.removeIf([](const QString &w) { return w.startsWith(QLatin1String("error p99")); });
    bool anyJudged = false;
    bool allTrusted = true;
    for (GroupResult &g : groups) {
        g.error.judge(toleranceMs);
        if (!g.error.trusted)
            continue;
        anyJudged = true;
        if (*g.error.trusted)
            continue;
        allTrusted = false;
        warnings.append(QStringLiteral("error p99 %1 ms of %2 is above the tolerance %3 ms: this machine's own delay "
                                       "was too large for its numbers; run with --time-scale auto (or fewer streams)")
                            .arg(g.error.percentiles.p99, 0, 'f', 3)
                            .arg(g.name)
                            .arg(toleranceMs, 0, 'g', 6));
    }
    if (groups.empty()) {
        error.judge(toleranceMs);
        return;
    }
    error.trusted = anyJudged ? std::optional<bool>(allTrusted) : std::nullopt;
}

void VariantResult::checkServerLoad()
{
    QStringList found;
    if (publisher.fellBehind > 0)
        found.append(QStringLiteral("the publisher could not keep its rate: asked %1/s, published %2/s; the machine "
                                    "was too slow for it (lower the rate or the audience)")
                         .arg(publisher.askedPerSecond, 0, 'g', 6)
                         .arg(publisher.achievedPerSecond, 0, 'f', 0));
    const auto slow = serverClosesByCause.find(QStringLiteral("slow_consumer"));
    if (slow != serverClosesByCause.end() && slow->second > 0)
        found.append(QStringLiteral("%1 streams were dropped as slow consumers: their readers fell further behind "
                                    "than the replay buffer or the servers' output bounds allow")
                         .arg(slow->second));
    for (const QString &warning : found) {
        if (!warnings.contains(warning))
            warnings.append(warning);
    }
}

const VariantResult *RunResult::variant(const QString &name) const
{
    for (const VariantResult &v : variants) {
        if (v.name == name)
            return &v;
    }
    return nullptr;
}

namespace {

QJsonObject groupJson(const GroupResult &g)
{
    return QJsonObject{{QStringLiteral("name"), g.name},
                       {QStringLiteral("latency_ms"), metrics::toJson(g.latency)},
                       {QStringLiteral("time_to_first_event_ms"), metrics::toJson(g.timeToFirstEvent)},
                       {QStringLiteral("events"), metrics::toJson(g.events)},
                       {QStringLiteral("streams"), metrics::toJson(g.streams)},
                       {QStringLiteral("error_ms"), metrics::toJson(g.error)},
                       {QStringLiteral("trusted"), trustedJson(g.error)},
                       {QStringLiteral("protocol"), g.protocol},
                       {QStringLiteral("stalled_stream_s"), ms(g.stalledStreamSeconds)}};
}

QJsonObject linkJson(const LinkResult &l)
{
    return QJsonObject{{QStringLiteral("name"), l.name},
                       {QStringLiteral("from"), l.from},
                       {QStringLiteral("to"), l.to},
                       {QStringLiteral("bytes"), QJsonObject{{QStringLiteral("total"), count(l.totalBytes())},
                                                             {QStringLiteral("down"), count(l.bytesDown)},
                                                             {QStringLiteral("up"), count(l.bytesUp)},
                                                             {QStringLiteral("heartbeat"), count(l.heartbeatBytes)}}},
                       {QStringLiteral("connections"), count(l.connections)},
                       {QStringLiteral("reaps"), count(l.reaps)},
                       {QStringLiteral("datagrams_dropped"), datagramDropsJson(l.datagramsDropped)},
                       {QStringLiteral("tls_handshake_failures"),
                        l.tlsHandshakeFailures ? count(*l.tlsHandshakeFailures) : QJsonValue(QJsonValue::Null)},
                       {QStringLiteral("segments"), QJsonObject{{QStringLiteral("down"), count(l.segmentsDown)},
                                                                {QStringLiteral("up"), count(l.segmentsUp)}}}};
}

QJsonValue costJson(const std::optional<CostEstimate> &cost)
{
    if (!cost)
        return QJsonValue(QJsonValue::Null);
    QJsonObject breakdown;
    for (const auto &[key, value] : cost->breakdown)
        breakdown.insert(key, value);
    return QJsonObject{{QStringLiteral("currency"), cost->currency},
                       {QStringLiteral("run"), cost->run},
                       {QStringLiteral("per_hour"), cost->perHour},
                       {QStringLiteral("breakdown"), breakdown}};
}

QJsonObject connectionsJson(const VariantResult &v)
{
    return QJsonObject{{QStringLiteral("origin_max"), count(v.connections.originMax)},
                       {QStringLiteral("by_node_max"), countMap(v.connections.byNodeMax)},
                       {QStringLiteral("rejected_by_node"), countMap(v.connections.rejectedByNode)}};
}

QJsonObject publisherJson(const VariantResult &v)
{
    return QJsonObject{{QStringLiteral("rate_asked_per_s"), v.publisher.askedPerSecond},
                       {QStringLiteral("rate_achieved_per_s"), v.publisher.achievedPerSecond},
                       {QStringLiteral("fell_behind"), count(v.publisher.fellBehind)}};
}

QJsonArray conformanceJson(const std::vector<ConformanceNote> &conformance)
{
    QJsonArray notes;
    for (const ConformanceNote &c : conformance)
        notes.append(QJsonObject{{QStringLiteral("node"), c.node},
                                 {QStringLiteral("check"), c.check},
                                 {QStringLiteral("ok"), c.ok},
                                 {QStringLiteral("note"), c.note}});
    return notes;
}

QJsonObject variantJson(const VariantResult &v)
{
    QJsonArray groupArray;
    for (const GroupResult &g : v.groups)
        groupArray.append(groupJson(g));
    QJsonArray linkArray;
    for (const LinkResult &l : v.links)
        linkArray.append(linkJson(l));
    QJsonObject variant{
        {QStringLiteral("name"), v.name},
        {QStringLiteral("resolved"), v.resolved},
        {QStringLiteral("duration_s"), ms(v.durationS)},
        {QStringLiteral("time_scale"), v.timeScale},
        {QStringLiteral("wall_s"), ms(v.wallS)},
        {QStringLiteral("time_scale_note"), v.timeScaleNote},
        {QStringLiteral("latency_ms"), metrics::toJson(v.latency)},
        {QStringLiteral("overhead_ms"), metrics::toJson(v.overhead)},
        {QStringLiteral("overhead_allowance_ms"), v.overheadAllowanceMs},
        {QStringLiteral("error_ms"), metrics::toJson(v.error)},
        {QStringLiteral("trusted"), trustedJson(v.error)},
        {QStringLiteral("tolerance_ms"), v.toleranceMs},
        {QStringLiteral("time_to_first_event_ms"), metrics::toJson(v.timeToFirstEvent)},
        {QStringLiteral("events"), metrics::toJson(v.events)},
        {QStringLiteral("streams"), metrics::toJson(v.streams)},
        {QStringLiteral("connections"), connectionsJson(v)},
        {QStringLiteral("bytes"), QJsonObject{{QStringLiteral("total"), count(v.bytes.total)},
                                              {QStringLiteral("heartbeat"), count(v.bytes.heartbeat)}}},
        {QStringLiteral("requests"), count(v.requests)},
        {QStringLiteral("publisher"), publisherJson(v)},
        {QStringLiteral("server_closes_by_cause"), countMap(v.serverClosesByCause)},
        {QStringLiteral("cost"), costJson(v.cost)},
        {QStringLiteral("stalled_stream_s"), ms(v.stalledStreamSeconds)},
        {QStringLiteral("groups"), groupArray},
        {QStringLiteral("links"), linkArray},
        {QStringLiteral("warnings"), QJsonArray::fromStringList(v.warnings)},
        {QStringLiteral("latency_cdf"), pointsToJson(v.latencyCdf)},
        {QStringLiteral("time_series"), metrics::toJson(v.timeSeries)},
    };
    if (!v.conformance.empty())
        variant.insert(QStringLiteral("conformance"), conformanceJson(v.conformance));
    return variant;
}

} // namespace

QJsonObject RunResult::toJson() const
{
    QJsonArray variantArray;
    for (const VariantResult &v : variants)
        variantArray.append(variantJson(v));
    QJsonObject scenario{{QStringLiteral("file"), scenarioFile},
                         {QStringLiteral("name"), scenarioName},
                         {QStringLiteral("seed"), count(seed)}};
    if (!scenarioQuestion.isEmpty())
        scenario.insert(QStringLiteral("question"), scenarioQuestion);
    if (!scenarioText.isEmpty())
        scenario.insert(QStringLiteral("text"), scenarioText);
    if (!scenarioVariants.isEmpty())
        scenario.insert(QStringLiteral("variants"), QJsonArray::fromStringList(scenarioVariants));
    QJsonObject json{{QStringLiteral("tool"), QJsonObject{{QStringLiteral("name"), toolName},
                                                          {QStringLiteral("version"), toolVersion}}},
                     {QStringLiteral("scenario"), scenario},
                     {QStringLiteral("variants"), variantArray}};
    if (!startedAt.isEmpty())
        json.insert(QStringLiteral("started_at"), startedAt);
    return json;
}

namespace {

std::optional<CostEstimate> readCost(Reader &r, const QJsonObject &o, const QString &at)
{
    const QJsonObject cost = r.object(o, QStringLiteral("cost"), at, false);
    if (cost.isEmpty())
        return std::nullopt;
    const QString cat = at + QStringLiteral(".cost");
    CostEstimate c;
    c.currency = r.string(cost, QStringLiteral("currency"), cat, false);
    c.run = r.number(cost, QStringLiteral("run"), cat);
    c.perHour = r.number(cost, QStringLiteral("per_hour"), cat, false);
    c.breakdown = r.map<double>(cost, QStringLiteral("breakdown"), cat);
    return c;
}

GroupResult readGroup(Reader &r, const QJsonObject &go, const QString &gat)
{
    GroupResult group;
    group.name = r.string(go, QStringLiteral("name"), gat);
    group.latency = r.latency(go, QStringLiteral("latency_ms"), gat);
    group.timeToFirstEvent = r.percentiles(go, QStringLiteral("time_to_first_event_ms"), gat, false);
    group.events = r.events(go, gat, false);
    group.streams = r.streams(go, gat, false);
    group.error = r.errorSummary(go, gat);
    group.protocol = r.string(go, QStringLiteral("protocol"), gat, false);
    group.stalledStreamSeconds = r.number(go, QStringLiteral("stalled_stream_s"), gat, false);
    return group;
}

LinkResult readLink(Reader &r, const QJsonObject &lo, const QString &lat)
{
    LinkResult link;
    link.name = r.string(lo, QStringLiteral("name"), lat);
    link.from = r.string(lo, QStringLiteral("from"), lat, false);
    link.to = r.string(lo, QStringLiteral("to"), lat, false);
    const QJsonObject lb = r.object(lo, QStringLiteral("bytes"), lat, false);
    link.bytesDown = r.counter(lb, QStringLiteral("down"), lat + QStringLiteral(".bytes"), false);
    link.bytesUp = r.counter(lb, QStringLiteral("up"), lat + QStringLiteral(".bytes"), false);
    link.heartbeatBytes = r.counter(lb, QStringLiteral("heartbeat"), lat + QStringLiteral(".bytes"), false);
    link.connections = r.counter(lo, QStringLiteral("connections"), lat, false);
    link.reaps = r.counter(lo, QStringLiteral("reaps"), lat, false);
    if (!lo.value(QStringLiteral("tls_handshake_failures")).isNull()
        && !lo.value(QStringLiteral("tls_handshake_failures")).isUndefined())
        link.tlsHandshakeFailures = r.counter(lo, QStringLiteral("tls_handshake_failures"), lat);
    const QJsonObject segments = r.object(lo, QStringLiteral("segments"), lat, false);
    link.segmentsDown = r.counter(segments, QStringLiteral("down"), lat + QStringLiteral(".segments"), false);
    link.segmentsUp = r.counter(segments, QStringLiteral("up"), lat + QStringLiteral(".segments"), false);
    if (lo.value(QStringLiteral("datagrams_dropped")).isObject()) {
        const QJsonObject d = lo.value(QStringLiteral("datagrams_dropped")).toObject();
        const QString dat = lat + QStringLiteral(".datagrams_dropped");
        link.datagramsDropped = LinkResult::DatagramDrops{r.counter(d, QStringLiteral("loss"), dat),
                                                          r.counter(d, QStringLiteral("queue_or_down"), dat),
                                                          r.counter(d, QStringLiteral("garbage"), dat)};
    }
    return link;
}

// "connections", "bytes", "requests", "publisher" and "server_closes_by_cause".
void readTotals(Reader &r, const QJsonObject &o, const QString &at, VariantResult &v)
{
    const QJsonObject connections = r.object(o, QStringLiteral("connections"), at, false);
    const QString cat = at + QStringLiteral(".connections");
    v.connections.originMax = r.counter(connections, QStringLiteral("origin_max"), cat, false);
    v.connections.byNodeMax = r.map<std::uint64_t>(connections, QStringLiteral("by_node_max"), cat);
    v.connections.rejectedByNode = r.map<std::uint64_t>(connections, QStringLiteral("rejected_by_node"), cat);
    const QJsonObject bytes = r.object(o, QStringLiteral("bytes"), at, false);
    v.bytes.total = r.counter(bytes, QStringLiteral("total"), at + QStringLiteral(".bytes"), false);
    v.bytes.heartbeat = r.counter(bytes, QStringLiteral("heartbeat"), at + QStringLiteral(".bytes"), false);
    v.requests = r.counter(o, QStringLiteral("requests"), at, false);
    const QJsonObject publisher = r.object(o, QStringLiteral("publisher"), at, false);
    const QString pat = at + QStringLiteral(".publisher");
    v.publisher.askedPerSecond = r.number(publisher, QStringLiteral("rate_asked_per_s"), pat, false);
    v.publisher.achievedPerSecond = r.number(publisher, QStringLiteral("rate_achieved_per_s"), pat, false);
    v.publisher.fellBehind = r.counter(publisher, QStringLiteral("fell_behind"), pat, false);
    v.serverClosesByCause = r.map<std::uint64_t>(o, QStringLiteral("server_closes_by_cause"), at);
}

// Name, scale, latency, overhead, error and time to first event.
void readFigures(Reader &r, const QJsonObject &o, const QString &at, VariantResult &v)
{
    v.name = r.string(o, QStringLiteral("name"), at);
    v.resolved = r.object(o, QStringLiteral("resolved"), at, false);
    v.durationS = r.number(o, QStringLiteral("duration_s"), at, false);
    v.timeScale = o.contains(QStringLiteral("time_scale")) ? r.number(o, QStringLiteral("time_scale"), at, false) : 1.0;
    v.wallS = o.contains(QStringLiteral("wall_s")) ? r.number(o, QStringLiteral("wall_s"), at, false) : v.durationS;
    v.timeScaleNote = o.value(QStringLiteral("time_scale_note")).toString();
    v.latency = r.latency(o, QStringLiteral("latency_ms"), at);
    v.overhead = r.percentiles(o, QStringLiteral("overhead_ms"), at, false);
    v.overheadAllowanceMs = r.number(o, QStringLiteral("overhead_allowance_ms"), at, false);
    v.error = r.errorSummary(o, at);
    v.toleranceMs = o.contains(QStringLiteral("tolerance_ms")) ? r.number(o, QStringLiteral("tolerance_ms"), at, false)
                                                               : VariantResult::kDefaultToleranceMs;
    v.timeToFirstEvent = r.percentiles(o, QStringLiteral("time_to_first_event_ms"), at, false);
    v.stalledStreamSeconds = r.number(o, QStringLiteral("stalled_stream_s"), at, false);
    v.events = r.events(o, at, true);
    v.streams = r.streams(o, at, true);
}

VariantResult readVariant(Reader &r, const QJsonObject &o, const QString &at)
{
    VariantResult v;
    readFigures(r, o, at, v);
    readTotals(r, o, at, v);
    v.cost = readCost(r, o, at);
    const QJsonArray groups = r.array(o, QStringLiteral("groups"), at, false);
    for (qsizetype g = 0; g < groups.size(); ++g)
        v.groups.push_back(readGroup(r, groups.at(g).toObject(), at + QStringLiteral(".groups[%1]").arg(g)));
    const QJsonArray links = r.array(o, QStringLiteral("links"), at, false);
    for (qsizetype l = 0; l < links.size(); ++l)
        v.links.push_back(readLink(r, links.at(l).toObject(), at + QStringLiteral(".links[%1]").arg(l)));
    for (const QJsonValue w : r.array(o, QStringLiteral("warnings"), at, false))
        v.warnings.append(w.toString());
    for (const QJsonValue c : r.array(o, QStringLiteral("conformance"), at, false)) {
        const QJsonObject co = c.toObject();
        v.conformance.push_back({co.value(QStringLiteral("node")).toString(), co.value(QStringLiteral("check")).toString(),
                                 co.value(QStringLiteral("ok")).toBool(true), co.value(QStringLiteral("note")).toString()});
    }
    v.latencyCdf = r.points(o, QStringLiteral("latency_cdf"), at);
    v.timeSeries = r.timeSeries(o, at);
    return v;
}

// "tool", "scenario" and "started_at".
void readHeader(Reader &r, const QJsonObject &json, const QString &root, RunResult &result)
{
    const QJsonObject tool = r.object(json, QStringLiteral("tool"), root);
    result.toolName = r.string(tool, QStringLiteral("name"), root + QStringLiteral(".tool"));
    result.toolVersion = r.string(tool, QStringLiteral("version"), root + QStringLiteral(".tool"));
    const QJsonObject scenario = r.object(json, QStringLiteral("scenario"), root);
    const QString sat = root + QStringLiteral(".scenario");
    result.scenarioFile = r.string(scenario, QStringLiteral("file"), sat, false);
    result.scenarioName = r.string(scenario, QStringLiteral("name"), sat, false);
    result.seed = r.counter(scenario, QStringLiteral("seed"), sat, false);
    result.scenarioQuestion = r.string(scenario, QStringLiteral("question"), sat, false);
    result.scenarioText = r.string(scenario, QStringLiteral("text"), sat, false);
    for (const QJsonValue name : r.array(scenario, QStringLiteral("variants"), sat, false))
        result.scenarioVariants.append(name.toString());
    result.startedAt = r.string(json, QStringLiteral("started_at"), root, false);
}

} // namespace

std::optional<RunResult> RunResult::fromJson(const QJsonObject &json, QString *error)
{
    Reader r;
    RunResult result;
    const QString root = QStringLiteral("results");
    readHeader(r, json, root, result);
    const QJsonArray variants = r.array(json, QStringLiteral("variants"), root);
    for (qsizetype i = 0; i < variants.size() && r.error.isEmpty(); ++i) {
        const QString at = root + QStringLiteral(".variants[%1]").arg(i);
        if (!variants.at(i).isObject()) {
            r.error = at + QStringLiteral(" should be an object");
            break;
        }
        result.variants.push_back(readVariant(r, variants.at(i).toObject(), at));
    }
    if (!r.error.isEmpty()) {
        if (error)
            *error = r.error;
        return std::nullopt;
    }
    return result;
}

std::optional<RunResult> RunResult::fromJsonBytes(const QByteArray &bytes, QString *error)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(bytes, &parseError);
    if (parseError.error != QJsonParseError::NoError) {
        if (error)
            *error = QStringLiteral("not valid JSON at offset %1: %2").arg(parseError.offset).arg(parseError.errorString());
        return std::nullopt;
    }
    if (!document.isObject()) {
        if (error)
            *error = QStringLiteral("not a results file: the top level should be an object");
        return std::nullopt;
    }
    return fromJson(document.object(), error);
}

} // namespace edgesse::metrics
