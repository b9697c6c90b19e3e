#include "core/scenario/scenario.h"

#include "core/net/fdlimit.h"
#include "core/scenario/units.h"

#include <QJsonArray>

#include <algorithm>
#include <cmath>

namespace edgesse::scenario {

using namespace std::chrono_literals;

QString Diagnostic::toString() const
{
    if (line <= 0)
        return QStringLiteral("%1: error: %2").arg(file, message);
    return QStringLiteral("%1:%2:%3: error: %4").arg(file).arg(line).arg(column).arg(message);
}

const QList<GatewayPreset> &gatewayPresets()
{
    // Defaults from the platforms' public documentation.
    static const QList<GatewayPreset> presets{
        {QStringLiteral("aws-alb"), 60s, std::nullopt, QStringLiteral("ALB idle_timeout.timeout_seconds default")},
        {QStringLiteral("nginx"), 60s, std::nullopt, QStringLiteral("proxy_read_timeout default")},
        {QStringLiteral("cloudflare"), 100s, std::nullopt, QStringLiteral("proxy read timeout (HTTP 524)")},
        {QStringLiteral("cloudfront"), 30s, std::nullopt, QStringLiteral("origin response timeout default")},
        {QStringLiteral("gcp-lb"), std::nullopt, 30s, QStringLiteral("backend service timeout bounds the whole response")},
        {QStringLiteral("azure-front-door"), 30s, std::nullopt, QStringLiteral("origin response timeout default")},
        {QStringLiteral("vercel-edge"), std::nullopt, 300s, QStringLiteral("streaming duration limit")},
    };
    return presets;
}

const GatewayPreset *findGatewayPreset(const QString &name)
{
    const QList<GatewayPreset> &presets = gatewayPresets();
    const auto it = std::find_if(presets.begin(), presets.end(), [&](const GatewayPreset &p) { return p.name == name; });
    return it == presets.end() ? nullptr : &*it;
}

microseconds Link::lossPenalty() const
{
    if (lossRecovery == LossRecovery::FastRetransmit)
        return rtt();
    if (lossRecovery == LossRecovery::Linux)
        return rto + rtt(); // a lone loss: the probe or RTO, SRTT + rto_min
    return std::max(rto, rtt() + 4 * jitter);
}

microseconds Publisher::burstPeriod() const
{
    if (rate <= 0)
        return microseconds(0);
    return microseconds(static_cast<qint64>(std::llround(1e6 * burstSize / rate)));
}

const Node *Variant::node(const QString &name) const
{
    const auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Node &n) { return n.name == name; });
    return it == nodes.end() ? nullptr : &*it;
}

const ClientGroup *Variant::clientGroup(const QString &name) const
{
    const auto it = std::find_if(clients.begin(), clients.end(), [&](const ClientGroup &g) { return g.name == name; });
    return it == clients.end() ? nullptr : &*it;
}

const Node *Variant::origin() const
{
    return node(publisher.at);
}

const Link *Variant::linkBetween(const QString &x, const QString &y) const
{
    const auto it = std::find_if(links.begin(), links.end(), [&](const Link &l) { return l.connects(x, y); });
    return it == links.end() ? nullptr : &*it;
}

Protocol Variant::protocolFor(const ClientGroup &group) const
{
    return group.protocol.value_or(protocol);
}

Discovery Variant::discoveryFor(const ClientGroup &group) const
{
    return group.discovery.value_or(discovery);
}

QStringList Variant::path(const ClientGroup &group) const
{
    const Node *nearNode = node(group.near);
    if (!clientGroup(group.name))
        return {};
    if (placement == Placement::Edge && nearNode && nearNode->kind == NodeKind::Pop)
        return {group.name, nearNode->name, publisher.at};
    return {group.name, publisher.at};
}

QList<const Link *> Variant::pathLinks(const ClientGroup &group) const
{
    const QStringList hops = path(group);
    QList<const Link *> result;
    for (qsizetype i = 1; i < hops.size(); ++i)
        result << linkBetween(hops[i - 1], hops[i]);
    return result;
}

microseconds Variant::pathLatency(const ClientGroup &group) const
{
    microseconds total{0};
    for (const Link *l : pathLinks(group))
        if (l)
            total += l->latency;
    return total;
}

const QStringList &externalPlaceholders()
{
    static const QStringList names{
        QStringLiteral("port"),          QStringLiteral("dir"),          QStringLiteral("cert"),
        QStringLiteral("key"),           QStringLiteral("heartbeat_ms"), QStringLiteral("retry_ms"),
        QStringLiteral("replay"),        QStringLiteral("max_connections"), QStringLiteral("upstream"),
        QStringLiteral("upstream_address"), QStringLiteral("upstream_port"), QStringLiteral("upstream_path"),
    };
    return names;
}

namespace {

// Calls `onName(start, length, name)` for each placeholder and `onEscape(start)` for each "{{".
template<typename OnName, typename OnEscape>
void scanPlaceholders(const QString &text, OnName onName, OnEscape onEscape)
{
    auto nameChar = [](QChar c, bool first) {
        return (c >= u'a' && c <= u'z') || c == u'_' || (!first && c >= u'0' && c <= u'9');
    };
    for (qsizetype i = 0; i < text.size(); ++i) {
        if (text[i] != u'{')
            continue;
        if (i + 1 < text.size() && text[i + 1] == u'{') {
            onEscape(i);
            ++i;
            continue;
        }
        qsizetype j = i + 1;
        while (j < text.size() && nameChar(text[j], j == i + 1))
            ++j;
        if (j > i + 1 && j < text.size() && text[j] == u'}') {
            onName(i, j + 1 - i, text.mid(i + 1, j - i - 1));
            i = j;
        }
    }
}

} // namespace

QStringList placeholderNames(const QString &text)
{
    QStringList names;
    scanPlaceholders(text, [&](qsizetype, qsizetype, const QString &name) { names << name; }, [](qsizetype) {});
    return names;
}

QString fillPlaceholders(const QString &text, const QHash<QString, QString> &values)
{
    QString out;
    qsizetype copied = 0;
    scanPlaceholders(
        text,
        [&](qsizetype start, qsizetype length, const QString &name) {
            const auto it = values.find(name);
            if (it == values.end())
                return;
            out += QStringView(text).mid(copied, start - copied);
            out += *it;
            copied = start + length;
        },
        [&](qsizetype start) {
            out += QStringView(text).mid(copied, start + 1 - copied);
            copied = start + 2;
        });
    out += QStringView(text).mid(copied);
    return out;
}

QStringList Variant::externalNodes() const
{
    QStringList names;
    for (const Node &n : nodes) {
        if (n.external)
            names << n.name;
    }
    return names;
}

QString Variant::timeDilationRefusal() const
{
    const QStringList names = externalNodes();
    if (names.isEmpty()) {
        QStringList real;
        for (const ClientGroup &g : clients)
            if (g.realBrowser)
                real << g.name;
        if (real.isEmpty())
            return {};
        return QStringLiteral("variant %1 has real browsers (%2): their timers and network run in real time, so its "
                              "time cannot be dilated; run it at time scale 1")
            .arg(name, real.join(QStringLiteral(", ")));
    }
    return QStringLiteral("variant %1 runs servers EdgeSSE does not clock (%2): their delays, timeouts and heartbeats "
                          "happen in real time, so its time cannot be dilated; run it at time scale 1")
        .arg(name, names.join(QStringLiteral(", ")));
}

qint64 Variant::totalBrowsers() const
{
    qint64 total = 0;
    for (const ClientGroup &g : clients)
        total += g.count;
    return total;
}

qint64 Variant::totalStreams() const
{
    qint64 total = 0;
    for (const ClientGroup &g : clients)
        total += g.count * g.streams;
    return total;
}

qint64 Variant::clientConnections(const ClientGroup &group) const
{
    if (protocolFor(group) == Protocol::Http2 || protocolFor(group) == Protocol::Http3)
        return group.count;
    return group.count * std::min(group.streams, std::max(1, group.connectionsPerOrigin));
}

qint64 Variant::connectionsNeeded(bool simulatedClients) const
{
    qint64 total = 0;
    for (const ClientGroup &g : clients)
        total += simulatedClients ? clientConnections(g) : 0;
    if (placement != Placement::Edge)
        return total;
    for (const Node &pop : nodes) {
        if (pop.kind != NodeKind::Pop)
            continue;
        qint64 streams = 0;
        bool used = false;
        for (const ClientGroup &g : clients) {
            if (g.near == pop.name) {
                used = true;
                streams += g.count * g.streams;
            }
        }
        if (!used)
            continue;
        if (pop.upstream == UpstreamMode::Shared)
            total += 1;
        else if (!simulatedClients)
            continue; // one upstream per stream the user's own clients open
        else if (protocol == Protocol::Http2 || protocol == Protocol::Http3) // PoPs subscribe over HTTP/2
            total += (streams + std::max(1, sse.maxConcurrentStreams) - 1) / std::max(1, sse.maxConcurrentStreams);
        else
            total += streams;
    }
    return total;
}

std::uint64_t Variant::descriptorsNeeded(bool simulatedClients) const
{
    // A routed node's balancer and a failover resolver each hold two more descriptors for
    // every client connection through them (core/routing).
    qint64 routedHops = 0;
    for (const ClientGroup &g : clients) {
        const QStringList hops = path(g);
        const Node *n = hops.size() > 1 ? node(hops[1]) : nullptr;
        if (simulatedClients && n)
            routedHops += clientConnections(g) * ((n->routed() ? 1 : 0) + (n->fallback.isEmpty() ? 0 : 1));
    }
    return static_cast<std::uint64_t>(std::max<qint64>(0, connectionsNeeded(simulatedClients)))
        * net::kDescriptorsPerProxiedConnection
        + static_cast<std::uint64_t>(routedHops) * 2 + net::kDescriptorReserve;
}

const Variant *Scenario::variant(const QString &name) const
{
    const auto it = std::find_if(variants.begin(), variants.end(), [&](const Variant &v) { return v.name == name; });
    return it == variants.end() ? nullptr : &*it;
}

namespace {

QJsonValue optionalDuration(const std::optional<microseconds> &d, const QString &absent)
{
    return d ? QJsonValue(units::formatDuration(*d)) : QJsonValue(absent);
}

QJsonObject pairsObject(const QList<QPair<QString, QString>> &pairs)
{
    QJsonObject o;
    for (const auto &[name, text] : pairs)
        o.insert(name, text);
    return o;
}

void insertExternal(QJsonObject &node, const ExternalServer &x)
{
    if (!x.command.isEmpty())
        node.insert(QStringLiteral("command"), x.command);
    if (!x.url.isEmpty())
        node.insert(QStringLiteral("url"), x.url);
    if (!x.files.isEmpty())
        node.insert(QStringLiteral("files"), pairsObject(x.files));
    if (!x.vars.isEmpty())
        node.insert(QStringLiteral("vars"), pairsObject(x.vars));
    node.insert(QStringLiteral("ready_timeout"), units::formatDuration(x.readyTimeout));
    node.insert(QStringLiteral("stop_grace"), units::formatDuration(x.stopGrace));
    if (!x.workingDirectory.isEmpty())
        node.insert(QStringLiteral("working_directory"), x.workingDirectory);
}

void insertRouting(QJsonObject &node, const Node &n)
{
    if (n.autoscale) {
        node.insert(QStringLiteral("autoscale"), QJsonObject{{QStringLiteral("min"), n.autoscale->min},
                                                             {QStringLiteral("max"), n.autoscale->max},
                                                             {QStringLiteral("cold_start"), units::formatDuration(n.autoscale->coldStart)},
                                                             {QStringLiteral("scale_in_after"), units::formatDuration(n.autoscale->scaleInAfter)},
                                                             {QStringLiteral("when_full"), keyword(n.autoscale->whenFull)}});
    } else {
        node.insert(QStringLiteral("instances"), n.instances);
    }
    node.insert(QStringLiteral("balance"), keyword(n.balance));
    QJsonArray faults;
    for (const NodeFault &f : n.faults) {
        QJsonObject o{{QStringLiteral("at"), units::formatDuration(f.at)},
                      {QStringLiteral("action"), keyword(f.kind)},
                      {QStringLiteral("down_for"), optionalDuration(f.downFor, QStringLiteral("forever"))}};
        o.insert(QStringLiteral("instance"), f.instance < 0 ? QJsonValue(QStringLiteral("all")) : QJsonValue(f.instance));
        if (f.kind == NodeFaultKind::Drain)
            o.insert(QStringLiteral("grace"), units::formatDuration(f.grace));
        faults.append(o);
    }
    if (!faults.isEmpty())
        node.insert(QStringLiteral("faults"), faults);
    if (n.acceptRate > 0) {
        node.insert(QStringLiteral("accept_rate"), units::formatRate(n.acceptRate));
        node.insert(QStringLiteral("accept_burst"), n.acceptBurst);
    }
    if (n.kind == NodeKind::Pop) {
        node.insert(QStringLiteral("fallback"), QJsonArray::fromStringList(n.fallback));
        node.insert(QStringLiteral("re_resolution"), units::formatDuration(n.reresolution));
    }
}

} // namespace

QJsonObject toJson(const Variant &v)
{
    QJsonObject nodes;
    for (const Node &n : v.nodes) {
        QJsonObject o{{QStringLiteral("kind"), keyword(n.kind)},
                      {QStringLiteral("region"), n.region},
                      {QStringLiteral("max_connections"), n.maxConnections},
                      {QStringLiteral("max_stream_duration"), optionalDuration(n.maxStreamDuration, QStringLiteral("none"))}};
        if (n.kind == NodeKind::Pop)
            o.insert(QStringLiteral("upstream"), keyword(n.upstream));
        if (n.external)
            insertExternal(o, *n.external);
        insertRouting(o, n);
        nodes.insert(n.name, o);
    }
    QJsonArray clients;
    for (const ClientGroup &g : v.clients) {
        QJsonObject o{{QStringLiteral("name"), g.name},
                      {QStringLiteral("count"), g.count},
                      {QStringLiteral("near"), g.near},
                      {QStringLiteral("streams"), g.streams},
                      {QStringLiteral("delivery"), keyword(g.delivery)},
                      {QStringLiteral("poll_interval"), units::formatDuration(g.pollInterval)},
                      {QStringLiteral("long_poll_timeout"), units::formatDuration(g.longPollTimeout)},
                      {QStringLiteral("connections_per_origin"), g.connectionsPerOrigin}};
        if (g.protocol)
            o.insert(QStringLiteral("protocol"), keyword(*g.protocol));
        if (g.discovery)
            o.insert(QStringLiteral("discovery"), keyword(*g.discovery));
        o.insert(QStringLiteral("browser"), keyword(g.browser));
        o.insert(QStringLiteral("client"), keyword(g.client));
        if (g.reconnect)
            o.insert(QStringLiteral("reconnect"), QJsonObject{{QStringLiteral("backoff"), keyword(g.reconnect->backoff)},
                                                              {QStringLiteral("base"), optionalDuration(g.reconnect->base, QStringLiteral("retry"))},
                                                              {QStringLiteral("max"), units::formatDuration(g.reconnect->max)},
                                                              {QStringLiteral("jitter"), keyword(g.reconnect->jitter)}});
        if (g.realBrowser)
            o.insert(QStringLiteral("real_browser"), keyword(*g.realBrowser));
        if (g.earlyData)
            o.insert(QStringLiteral("early_data"), *g.earlyData);
        clients.append(o);
    }
    QJsonArray links;
    for (const Link &l : v.links) {
        QJsonObject o{{QStringLiteral("between"), QJsonArray{l.a, l.b}},
                      {QStringLiteral("latency"), units::formatDuration(l.latency)},
                      {QStringLiteral("jitter"), units::formatDuration(l.jitter)},
                      {QStringLiteral("jitter_distribution"), keyword(l.jitterDistribution)},
                      {QStringLiteral("bandwidth"), units::formatBandwidth(l.bandwidthBitsPerSecond)},
                      {QStringLiteral("loss"), l.lossModel == LossModel::Burst
                                                   ? QJsonValue(QJsonObject{{QStringLiteral("model"), QStringLiteral("burst")},
                                                                            {QStringLiteral("p"), l.loss},
                                                                            {QStringLiteral("burst"), l.lossBurst}})
                                                   : QJsonValue(l.loss)},
                      {QStringLiteral("loss_recovery"), keyword(l.lossRecovery)},
                      {QStringLiteral("rto"), units::formatDuration(l.rto)},
                      {QStringLiteral("tls"), l.tls}};
        if (l.gateway) {
            QJsonObject gateway{{QStringLiteral("idle_timeout"), optionalDuration(l.gateway->idleTimeout, QStringLiteral("none"))},
                                {QStringLiteral("max_duration"), optionalDuration(l.gateway->maxDuration, QStringLiteral("none"))}};
            if (findGatewayPreset(l.gateway->preset))
                gateway.insert(QStringLiteral("preset"), l.gateway->preset);
            o.insert(QStringLiteral("gateway"), gateway);
        }
        QJsonArray faults;
        for (const LinkFault &f : l.faults)
            faults.append(QJsonObject{{QStringLiteral("at"), units::formatDuration(f.at)},
                                      {QStringLiteral("down_for"), units::formatDuration(f.downFor)}});
        o.insert(QStringLiteral("faults"), faults);
        links.append(o);
    }
    QJsonObject publisher{{QStringLiteral("at"), v.publisher.at},
                          {QStringLiteral("rate"), units::formatRate(v.publisher.rate)},
                          {QStringLiteral("pattern"), keyword(v.publisher.pattern)},
                          {QStringLiteral("payload"), units::formatBytes(v.publisher.payloadBytes)}};
    if (v.publisher.pattern == PublishPattern::Bursty)
        publisher.insert(QStringLiteral("burst_size"), v.publisher.burstSize);
    if (!v.publisher.post.isEmpty()) {
        publisher.insert(QStringLiteral("post"), v.publisher.post);
        publisher.insert(QStringLiteral("body"), v.publisher.body);
    }
    QJsonObject sse{{QStringLiteral("heartbeat"), optionalDuration(v.sse.heartbeat, QStringLiteral("off"))},
                    {QStringLiteral("retry"), units::formatDuration(v.sse.retry)},
                    {QStringLiteral("replay"), v.sse.replay},
                    {QStringLiteral("max_concurrent_streams"), v.sse.maxConcurrentStreams}};
    QJsonObject result{{QStringLiteral("name"), v.name},
                       {QStringLiteral("seed"), static_cast<qint64>(v.seed)},
                       {QStringLiteral("duration"), units::formatDuration(v.duration)},
                       {QStringLiteral("warmup"), units::formatDuration(v.warmup)},
                       {QStringLiteral("arrival"), optionalDuration(v.arrival, QStringLiteral("warmup"))},
                       {QStringLiteral("placement"), keyword(v.placement)},
                       {QStringLiteral("protocol"), keyword(v.protocol)},
                       {QStringLiteral("discovery"), keyword(v.discovery)},
                       {QStringLiteral("nodes"), nodes},
                       {QStringLiteral("clients"), clients},
                       {QStringLiteral("links"), links},
                       {QStringLiteral("publisher"), publisher},
                       {QStringLiteral("sse"), sse}};
    if (v.pricing) {
        result.insert(QStringLiteral("pricing"),
                      QJsonObject{{QStringLiteral("currency"), v.pricing->currency},
                                  {QStringLiteral("per_million_requests"), v.pricing->perMillionRequests},
                                  {QStringLiteral("per_gb_egress"), v.pricing->perGbEgress},
                                  {QStringLiteral("per_connection_hour"), v.pricing->perConnectionHour},
                                  {QStringLiteral("per_gb_second"), v.pricing->perGbSecond},
                                  {QStringLiteral("memory"), units::formatBytes(v.pricing->memoryBytes)},
                                  {QStringLiteral("per_instance_hour"), v.pricing->perInstanceHour},
                                  {QStringLiteral("per_instance_gb_second"), v.pricing->perInstanceGbSecond}});
    }
    return result;
}

} // namespace edgesse::scenario
