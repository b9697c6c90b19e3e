#include "core/scenario/loader/resolver.h"

#include "core/net/fdlimit.h"
#include "core/scenario/loader/keys.h"
#include "core/scenario/loader/limits.h"
#include "core/scenario/loader/routingkeys.h"
#include "core/scenario/units.h"

#include <QDir>
#include <QFileInfo>
#include <QHash>
#include <QRegularExpression>
#include <QUrl>

#include <algorithm>

namespace edgesse::scenario::loader {

using namespace std::chrono_literals;

namespace {

class Resolver
{
public:
    Resolver(Reader &reader, const Value &root, const LoadOptions &options)
        : m_read(reader), m_report(reader.report()), m_root(root), m_options(options)
    {
    }

    // `label` names the variant as written (before a sweep), for problems every swept
    // combination shares.
    std::optional<Variant> resolve(const QString &name, const QString &label, const Value *variantItem)
    {
        m_label = label;
        const int before = m_report.attempts();
        Variant v;
        v.name = name;
        m_variantItem = variantItem;
        readTop(v);
        readNodes(v);
        readClients(v);
        readLinks(v);
        readPublisher(v);
        readSse(v);
        readPricing(v);
        if (m_report.attempts() == before)
            checkSemantics(v);
        if (m_report.attempts() != before)
            return std::nullopt;
        return v;
    }

private:
    void readTop(Variant &v)
    {
        if (const Value *x = m_root.find(u"seed"))
            if (auto n = m_read.integer(*x, 0, kMaxSeed, QStringLiteral("seed")))
                v.seed = quint64(*n);
        if (const Value *x = m_root.find(u"duration"))
            if (auto d = m_read.requiredDuration(*x, 1ms))
                v.duration = *d;
        if (const Value *x = m_root.find(u"warmup"))
            if (auto d = m_read.requiredDuration(*x, 0us))
                v.warmup = *d;
        if (const Value *x = m_root.find(u"arrival"))
            if (auto d = m_read.duration(*x, 0us, {QStringLiteral("warmup")}))
                v.arrival = *d;
        m_placementValue = m_root.find(u"placement");
        if (m_placementValue)
            if (auto p = m_read.choice<Placement>(*m_placementValue, QStringLiteral("placement")))
                v.placement = *p;
        if (const Value *x = m_root.find(u"protocol"))
            if (auto p = m_read.choice<Protocol>(*x, QStringLiteral("protocol")))
                v.protocol = *p;
        if (const Value *x = m_root.find(u"discovery"))
            if (auto d = m_read.choice<Discovery>(*x, QStringLiteral("discovery")))
                v.discovery = *d;
    }

    void readNodes(Variant &v)
    {
        const Value *nodes = m_read.require(m_root, QStringLiteral("nodes"), QStringLiteral("the origin and any edge PoPs"));
        if (!nodes || !m_read.expectMap(*nodes, QStringLiteral("nodes by name"))) {
            m_nodesUnreadable = true;
            return;
        }
        if (nodes->entries.empty()) {
            m_report.at(*nodes, QStringLiteral("no nodes; define at least one node of kind origin"));
            return;
        }
        for (const Entry &e : nodes->entries) {
            Value keyValue;
            keyValue.kind = Value::Kind::Scalar;
            keyValue.scalar = e.key;
            keyValue.line = e.line;
            keyValue.column = e.column;
            keyValue.path = nodes->path;
            const auto name = m_read.name(keyValue, QStringLiteral("node name"));
            const Value &spec = e.value;
            if (!m_read.expectMap(spec, QStringLiteral("a node like { kind: origin, region: us-east }")))
                continue;
            m_read.checkKeys(spec, kNodeKeys + kRoutingNodeKeys);
            Node n;
            n.name = name.value_or(e.key);
            if (const Value *kind = m_read.require(spec, QStringLiteral("kind"), QStringLiteral("origin or pop")))
                if (auto k = m_read.choice<NodeKind>(*kind, QStringLiteral("node kind")))
                    n.kind = *k;
            if (const Value *x = spec.find(u"region"))
                if (auto s = m_read.scalar(*x, QStringLiteral("a region name")))
                    n.region = *s;
            if (const Value *x = spec.find(u"max_connections"))
                if (auto c = m_read.integer(*x, 0, 10'000'000, QStringLiteral("max_connections")))
                    n.maxConnections = *c;
            if (const Value *x = spec.find(u"max_stream_duration"))
                if (auto d = m_read.duration(*x, 1ms, {QStringLiteral("none")}))
                    n.maxStreamDuration = *d;
            if (const Value *x = spec.find(u"upstream")) {
                if (auto u = m_read.choice<UpstreamMode>(*x, QStringLiteral("upstream mode")))
                    n.upstream = *u;
                if (n.kind == NodeKind::Origin)
                    m_report.at(*x, QStringLiteral("upstream applies to a pop only; an origin has no upstream"));
            }
            readExternal(spec, n);
            readRouting(m_read, spec, n);
            m_nodeValues.insert(n.name, &spec);
            v.nodes << n;
        }
        if (std::none_of(v.nodes.begin(), v.nodes.end(), [](const Node &n) { return n.kind == NodeKind::Origin; }))
            m_report.at(*nodes, QStringLiteral("no node of kind origin; the publisher needs one"));
    }

    // command / url / files / vars: the user's own server standing as this node.
    void readExternal(const Value &spec, Node &n)
    {
        const Value *command = spec.find(u"command");
        const Value *url = spec.find(u"url");
        if (!command && !url) {
            for (const char16_t *key : {u"files", u"vars", u"ready_timeout", u"stop_grace", u"working_directory"})
                if (const Value *x = spec.find(key))
                    m_report.at(*x, QStringLiteral("%1 applies to an external node; add command: or url:").arg(QString::fromUtf16(key)));
            return;
        }
        ExternalServer x;
        if (command)
            if (auto s = m_read.scalar(*command, QStringLiteral("a command line like \"node server.js --port {port}\"")))
                x.command = s->trimmed();
        if (url)
            if (auto s = m_read.scalar(*url, QStringLiteral("a URL like http://127.0.0.1:8080/events")))
                x.url = s->trimmed();
        readTexts(spec, u"files", x.files, QStringLiteral("file name"));
        readTexts(spec, u"vars", x.vars, QStringLiteral("placeholder name"));
        if (const Value *t = spec.find(u"ready_timeout"))
            if (auto d = m_read.requiredDuration(*t, 100ms))
                x.readyTimeout = *d;
        if (const Value *t = spec.find(u"stop_grace"))
            if (auto d = m_read.requiredDuration(*t, 0us))
                x.stopGrace = *d;
        // Commands run where the scenario file is, so they can name files beside it.
        const QDir base = QFileInfo(m_report.file()).absoluteDir();
        x.workingDirectory = base.absolutePath();
        if (const Value *w = spec.find(u"working_directory"))
            if (auto s = m_read.scalar(*w, QStringLiteral("a folder")))
                x.workingDirectory = QDir::cleanPath(base.absoluteFilePath(*s));
        if (command && x.command.isEmpty())
            m_report.at(*command, QStringLiteral("command is empty; give the command line that starts the server"));
        if (n.kind == NodeKind::Pop && !command) {
            m_report.at(*url, QStringLiteral("a PoP EdgeSSE does not start cannot be put behind its upstream link; "
                                             "start it with command: and point it at {upstream}"));
            return;
        }
        if (n.kind == NodeKind::Pop && !usesUpstream(spec, x))
            m_report.at(*command, QStringLiteral("a PoP's command or files must use {upstream} (or {upstream_address}, "
                                                 "{upstream_port}) so its traffic crosses the link to the origin"));
        if (url && !checkUrl(*url, x))
            return;
        for (const auto &var : x.vars)
            if (externalPlaceholders().contains(var.first))
                m_report.at(spec.find(u"vars") ? *spec.find(u"vars") : spec,
                            QStringLiteral("vars: \"%1\" is a placeholder EdgeSSE fills in itself; choose another name").arg(var.first));
        checkPlaceholders(command, x.command, n, x);
        checkPlaceholders(url, x.url, n, x);
        if (const Value *files = spec.find(u"files"); files && files->isMap())
            for (const Entry &e : files->entries)
                checkPlaceholders(&e.value, e.value.scalar, n, x);
        n.external = x;
    }

    static bool usesUpstream(const Value &spec, const ExternalServer &x)
    {
        QStringList names = placeholderNames(x.command);
        for (const auto &file : x.files)
            names << placeholderNames(file.second);
        (void)spec;
        return names.contains(QStringLiteral("upstream")) || names.contains(QStringLiteral("upstream_address"))
            || names.contains(QStringLiteral("upstream_port"));
    }

    bool checkUrl(const Value &at, const ExternalServer &x)
    {
        const QString probe = QString(x.url).replace(QStringLiteral("{port}"), QStringLiteral("1"));
        const QUrl u(probe, QUrl::StrictMode);
        if (!u.isValid() || u.scheme() != QLatin1String("http") || u.host().isEmpty()) {
            m_report.at(at, QStringLiteral("url must be an http:// URL of the event stream, like http://127.0.0.1:8080/events; got \"%1\"").arg(x.url));
            return false;
        }
        if (x.command.isEmpty() && x.url.contains(QStringLiteral("{port}"))) {
            m_report.at(at, QStringLiteral("{port} in url needs a command: EdgeSSE only chooses the port of a server it starts"));
            return false;
        }
        if (x.command.isEmpty() && u.port() <= 0) {
            m_report.at(at, QStringLiteral("url needs an explicit port, like http://127.0.0.1:8080/events"));
            return false;
        }
        return true;
    }

    void readTexts(const Value &spec, QStringView key, QList<QPair<QString, QString>> &out, const QString &what)
    {
        const Value *map = spec.find(key);
        if (!map || !m_read.expectMap(*map, what + QStringLiteral("s with their text")))
            return;
        static const QRegularExpression fileName(QStringLiteral("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$"));
        static const QRegularExpression varName(QStringLiteral("^[a-z_][a-z0-9_]{0,63}$"));
        const QRegularExpression &valid = key == u"files" ? fileName : varName;
        for (const Entry &e : map->entries) {
            if (!valid.match(e.key).hasMatch()) {
                m_report.add(e.line, e.column, QStringLiteral("%1: %2 \"%3\" must be %4").arg(map->path, what, e.key,
                             key == u"files" ? QStringLiteral("a plain file name (letters, digits, '_', '-', '.'), no folders")
                                             : QStringLiteral("lower-case letters, digits and '_'")));
                continue;
            }
            if (auto text = m_read.scalar(e.value, QStringLiteral("text")))
                out.push_back({e.key, *text});
        }
    }

    void checkPlaceholders(const Value *at, const QString &text, const Node &n, const ExternalServer &x)
    {
        if (!at)
            return;
        static const QStringList upstreamNames{QStringLiteral("upstream"), QStringLiteral("upstream_address"),
                                               QStringLiteral("upstream_port"), QStringLiteral("upstream_path")};
        for (const QString &name : placeholderNames(text)) {
            const bool var = std::any_of(x.vars.begin(), x.vars.end(), [&](const auto &p) { return p.first == name; });
            if (var)
                continue;
            if (!externalPlaceholders().contains(name)) {
                QStringList known = externalPlaceholders();
                for (const auto &p : x.vars)
                    known << p.first;
                m_report.at(*at, QStringLiteral("unknown placeholder {%1}; known: %2 (vars: adds your own; {{ is a literal brace)")
                                     .arg(name, known.join(QStringLiteral(", "))));
            } else if (n.kind == NodeKind::Origin && upstreamNames.contains(name)) {
                m_report.at(*at, QStringLiteral("{%1} is the URL of a PoP's upstream link; an origin has none").arg(name));
            } else if (name == QLatin1String("port") && x.command.isEmpty()) {
                m_report.at(*at, QStringLiteral("{port} needs a command: EdgeSSE only chooses the port of a server it starts"));
            }
        }
    }

    void readClients(Variant &v)
    {
        const Value *clients = m_read.require(m_root, QStringLiteral("clients"), QStringLiteral("the client populations"));
        if (!clients || !m_read.expectSequence(*clients, QStringLiteral("client groups"))) {
            m_clientsUnreadable = true;
            return;
        }
        if (clients->items.empty()) {
            m_report.at(*clients, QStringLiteral("no client groups; add one like { name: berlin, count: 100, near: origin }"));
            return;
        }
        for (const Value &item : clients->items) {
            if (!m_read.expectMap(item, QStringLiteral("a client group like { name: berlin, count: 100, near: pop-fra }")))
                continue;
            m_read.checkKeys(item, kClientKeys);
            ClientGroup g;
            if (const Value *x = m_read.require(item, QStringLiteral("name"), QStringLiteral("a name for the group"))) {
                // An invalid name is reported but still used, so links to it do not fail again.
                const bool valid = m_read.name(*x, QStringLiteral("client group name")).has_value();
                if (x->isScalar() && !x->scalar.isEmpty()) {
                    g.name = x->scalar;
                    if (valid && m_groupValues.contains(g.name))
                        m_report.at(*x, QStringLiteral("duplicate client group name \"%1\"").arg(g.name));
                    else if (valid && v.node(g.name))
                        m_report.at(*x, QStringLiteral("client group name \"%1\" is already a node name").arg(g.name));
                }
            }
            if (const Value *x = m_read.require(item, QStringLiteral("count"), QStringLiteral("how many browsers")))
                if (auto n = m_read.integer(*x, 1, 1'000'000, QStringLiteral("count")))
                    g.count = *n;
            if (const Value *x = m_read.require(item, QStringLiteral("near"), QStringLiteral("the node the browsers are closest to"))) {
                if (auto s = m_read.scalar(*x, QStringLiteral("a node name"))) {
                    g.near = *s;
                    if (!m_nodesUnreadable && !v.nodes.isEmpty() && !v.node(g.near))
                        unknownReference(*x, g.near, QStringLiteral("node"), nodeNames(v));
                }
            }
            if (const Value *x = item.find(u"streams"))
                if (auto n = m_read.integer(*x, 1, 1000, QStringLiteral("streams")))
                    g.streams = int(*n);
            if (const Value *x = item.find(u"delivery"))
                if (auto d = m_read.choice<Delivery>(*x, QStringLiteral("delivery")))
                    g.delivery = *d;
            if (const Value *x = item.find(u"poll_interval"))
                if (auto d = m_read.requiredDuration(*x, 1ms, kMaxPollDuration))
                    g.pollInterval = *d;
            if (const Value *x = item.find(u"long_poll_timeout"))
                if (auto d = m_read.requiredDuration(*x, 1ms, kMaxPollDuration))
                    g.longPollTimeout = *d;
            if (const Value *x = item.find(u"protocol"))
                if (auto p = m_read.choice<Protocol>(*x, QStringLiteral("protocol")))
                    g.protocol = *p;
            if (const Value *x = item.find(u"discovery"))
                if (auto d = m_read.choice<Discovery>(*x, QStringLiteral("discovery")))
                    g.discovery = *d;
            if (const Value *x = item.find(u"connections_per_origin"))
                if (auto n = m_read.integer(*x, 1, 256, QStringLiteral("connections_per_origin")))
                    g.connectionsPerOrigin = int(*n);
            readBrowserKeys(item, g);
            if (!g.name.isEmpty() && !m_groupValues.contains(g.name)) {
                m_groupValues.insert(g.name, &item);
                v.clients << g;
            }
        }
    }

    void readLinks(Variant &v)
    {
        const Value *links = m_read.require(m_root, QStringLiteral("links"), QStringLiteral("the network paths between clients and nodes"));
        if (!links || !m_read.expectSequence(*links, QStringLiteral("links")))
            return;
        const QStringList endpoints = nodeNames(v) + groupNames(v);
        for (const Value &item : links->items) {
            if (!m_read.expectMap(item, QStringLiteral("a link like { between: [berlin, pop-fra], latency: 8ms }")))
                continue;
            m_read.checkKeys(item, kLinkKeys);
            Link l;
            bool endpointsOk = false;
            if (const Value *x = m_read.require(item, QStringLiteral("between"), QStringLiteral("the two ends, like [berlin, pop-fra]")))
                endpointsOk = readBetween(v, *x, endpoints, l);
            bool latencyOk = false; // a bad latency is reported once, not again through the jitter check
            if (const Value *x = m_read.require(item, QStringLiteral("latency"), QStringLiteral("one-way delay, like 40ms")))
                if (auto d = m_read.requiredDuration(*x, 0us, kMaxLatency)) {
                    l.latency = *d;
                    latencyOk = true;
                }
            if (const Value *x = item.find(u"jitter"))
                if (auto d = m_read.requiredDuration(*x, 0us, kMaxLatency))
                    l.jitter = *d;
            if (const Value *x = item.find(u"jitter_distribution"))
                if (auto d = m_read.choice<JitterDistribution>(*x, QStringLiteral("jitter distribution")))
                    l.jitterDistribution = *d;
            if (latencyOk && l.jitter > l.latency && l.jitterDistribution != JitterDistribution::Pareto)
                if (const Value *x = item.find(u"jitter"))
                    m_report.at(*x, QStringLiteral("jitter %1 exceeds latency %2; a delay cannot go below zero")
                                        .arg(units::formatDuration(l.jitter), units::formatDuration(l.latency)));
            if (const Value *x = item.find(u"bandwidth"))
                if (auto b = m_read.unit(*x, QStringLiteral("a bandwidth like 100Mbps"),
                                         [](QStringView t, QString *e) { return units::parseBandwidth(t, e); })) {
                    if (*b != 0 && (*b < kMinBandwidthBitsPerSecond || *b > kMaxBandwidthBitsPerSecond))
                        m_report.at(*x, QStringLiteral("bandwidth must be between %1 and %2 (or unlimited), got %3")
                                            .arg(units::formatBandwidth(kMinBandwidthBitsPerSecond),
                                                 units::formatBandwidth(kMaxBandwidthBitsPerSecond), x->scalar));
                    else
                        l.bandwidthBitsPerSecond = *b;
                }
            if (const Value *x = item.find(u"loss"))
                readLoss(*x, l);
            if (const Value *x = item.find(u"loss_recovery"))
                if (auto r = m_read.choice<LossRecovery>(*x, QStringLiteral("loss recovery")))
                    l.lossRecovery = *r;
            if (const Value *x = item.find(u"rto"))
                if (auto d = m_read.requiredDuration(*x, 200ms, kMaxRto))
                    l.rto = *d;
            if (const Value *x = item.find(u"tls"))
                if (auto b = m_read.boolean(*x))
                    l.tls = *b;
            if (const Value *x = item.find(u"gateway"))
                l.gateway = readGateway(*x);
            if (const Value *x = item.find(u"faults"))
                l.faults = readFaults(*x);
            if (endpointsOk) {
                if (const Link *previous = v.linkBetween(l.a, l.b)) {
                    m_report.at(*item.find(u"between"),
                                QStringLiteral("a second link between \"%1\" and \"%2\"; each pair is linked once")
                                    .arg(previous->a, previous->b));
                    continue;
                }
                m_linkValues.insert(v.links.size(), &item);
                v.links << l;
            }
        }
    }

    bool readBetween(const Variant &v, const Value &x, const QStringList &endpoints, Link &l)
    {
        if (!x.isSequence() || x.items.size() != 2 || !x.items[0].isScalar() || !x.items[1].isScalar()) {
            m_report.at(x, QStringLiteral("expected two names like [berlin, pop-fra], got %1").arg(x.describe()));
            return false;
        }
        bool ok = true;
        for (const Value &end : x.items) {
            if (!v.node(end.scalar) && !v.clientGroup(end.scalar)) {
                if (!m_nodesUnreadable && !m_clientsUnreadable)
                    unknownReference(end, end.scalar, QStringLiteral("node or client group"), endpoints);
                ok = false;
            }
        }
        l.a = x.items[0].scalar;
        l.b = x.items[1].scalar;
        if (!ok)
            return false;
        if (l.a == l.b) {
            m_report.at(x, QStringLiteral("a link joins two different ends, got \"%1\" twice").arg(l.a));
            return false;
        }
        if (v.clientGroup(l.a) && v.clientGroup(l.b)) {
            m_report.at(x, QStringLiteral("a link joins clients to a node; \"%1\" and \"%2\" are both client groups").arg(l.a, l.b));
            return false;
        }
        return true;
    }

    // `loss: 1%`, or `loss: { model: burst, p: 1%, burst: 4 }` (Gilbert-Elliott).
    void readLoss(const Value &x, Link &l)
    {
        const auto probability = [&](const Value &v) -> std::optional<double> {
            auto p = m_read.unit(v, QStringLiteral("a probability like 0.01 or 1%"),
                                 [](QStringView t, QString *e) { return units::parseProbability(t, e); });
            if (p && *p >= 1.0) {
                m_report.at(v, QStringLiteral("loss %1 would drop every segment; use a value below 1 (100%)").arg(v.scalar));
                return std::nullopt;
            }
            return p;
        };
        if (!x.isMap()) {
            if (auto p = probability(x))
                l.loss = *p;
            return;
        }
        static const QStringList kLossKeys{QStringLiteral("model"), QStringLiteral("p"), QStringLiteral("burst")};
        m_read.checkKeys(x, kLossKeys);
        if (const Value *m = x.find(u"model"))
            if (auto model = m_read.choice<LossModel>(*m, QStringLiteral("loss model")))
                l.lossModel = *model;
        if (const Value *p = x.find(u"p")) {
            if (auto value = probability(*p))
                l.loss = *value;
        } else {
            m_report.at(x, QStringLiteral("a loss model needs p, the share of segments lost (e.g. p: 1%)"));
        }
        if (const Value *b = x.find(u"burst")) {
            if (auto n = m_read.number(*b, 1.0, 1000.0, QStringLiteral("the mean run of lost segments")))
                l.lossBurst = *n;
        } else if (l.lossModel == LossModel::Burst) {
            m_report.at(x, QStringLiteral("a burst loss model needs burst, the mean run of lost segments (e.g. burst: 4)"));
        }
    }

    void readBrowserKeys(const Value &item, ClientGroup &g)
    {
        if (const Value *x = item.find(u"browser"))
            if (auto b = m_read.choice<BrowserKind>(*x, QStringLiteral("browser")))
                g.browser = *b;
        if (const Value *x = item.find(u"client"))
            if (auto c = m_read.choice<ClientApi>(*x, QStringLiteral("client")))
                g.client = *c;
        if (const Value *x = item.find(u"reconnect"))
            g.reconnect = readReconnect(*x);
        if (const Value *x = item.find(u"real_browser")) {
            if (auto b = m_read.choice<BrowserKind>(*x, QStringLiteral("real_browser"))) {
                if (*b != BrowserKind::Chromium)
                    m_report.at(*x, QStringLiteral("real_browser: only chromium can be launched here (Debian's chromium); "
                                                   "simulate %1 with browser: %1 instead").arg(keyword(*b)));
                else if (g.delivery != Delivery::Sse)
                    m_report.at(*x, QStringLiteral("a real browser opens EventSources: remove delivery or set it to sse"));
                else if (g.count > kMaxRealBrowsers)
                    m_report.at(*x, QStringLiteral("a real browser population is at most %1 browsers (each is a headless "
                                                   "Chromium); lower count").arg(kMaxRealBrowsers));
                else
                    g.realBrowser = *b;
            }
        }
        if (const Value *x = item.find(u"early_data")) {
            if (auto b = m_read.boolean(*x)) {
                if (g.realBrowser)
                    m_report.at(*x, QStringLiteral("early_data is for simulated browsers; real Chromium keeps its own "
                                                   "default (off): remove early_data"));
                else
                    g.earlyData = *b;
            }
        }
    }

    std::optional<ReconnectPolicy> readReconnect(const Value &x)
    {
        if (x.isScalar() && x.scalar == QLatin1String("browser"))
            return std::nullopt;
        if (!m_read.expectMap(x, QStringLiteral("a reconnect policy like { backoff: exponential, base: 1s, max: 30s, jitter: full }")))
            return std::nullopt;
        m_read.checkKeys(x, kReconnectKeys);
        ReconnectPolicy r;
        if (const Value *v = x.find(u"backoff"))
            if (auto b = m_read.choice<Backoff>(*v, QStringLiteral("backoff")))
                r.backoff = *b;
        if (const Value *v = x.find(u"base"))
            if (auto d = m_read.duration(*v, 1ms, {QStringLiteral("retry")}, kMaxReconnectWait))
                r.base = *d;
        if (const Value *v = x.find(u"max"))
            if (auto d = m_read.requiredDuration(*v, 1ms, kMaxReconnectWait))
                r.max = *d;
        if (const Value *v = x.find(u"jitter"))
            if (auto j = m_read.choice<ReconnectJitter>(*v, QStringLiteral("jitter")))
                r.jitter = *j;
        if (r.base && r.max < *r.base)
            m_report.at(x, QStringLiteral("reconnect max (%1) is below its base (%2): raise max")
                               .arg(units::formatDuration(r.max), units::formatDuration(*r.base)));
        return r;
    }

    std::optional<Gateway> readGateway(const Value &x)
    {
        QStringList presetNames;
        for (const GatewayPreset &p : gatewayPresets())
            presetNames << p.name;
        const auto fromPreset = [&](const Value &nameValue) -> std::optional<Gateway> {
            const auto text = m_read.scalar(nameValue, QStringLiteral("a gateway preset name"));
            if (!text)
                return std::nullopt;
            const GatewayPreset *preset = findGatewayPreset(*text);
            if (!preset) {
                unknownReference(nameValue, *text, QStringLiteral("gateway preset"), presetNames);
                return std::nullopt;
            }
            return Gateway{preset->name, preset->idleTimeout, preset->maxDuration};
        };
        if (x.isScalar() && x.scalar == QLatin1String("none"))
            return std::nullopt;
        if (x.isScalar())
            return fromPreset(x);
        if (!x.isMap()) {
            m_report.at(x, QStringLiteral("expected a gateway preset (%1) or { preset: NAME, idle_timeout: D, max_duration: D }, got %2")
                               .arg(presetNames.join(QStringLiteral(", ")), x.describe()));
            return std::nullopt;
        }
        m_read.checkKeys(x, kGatewayKeys);
        Gateway g{QStringLiteral("custom"), std::nullopt, std::nullopt};
        if (const Value *p = x.find(u"preset")) {
            auto preset = fromPreset(*p);
            if (!preset)
                return std::nullopt;
            g = *preset;
        } else if (!x.find(u"idle_timeout") && !x.find(u"max_duration")) {
            m_report.at(x, QStringLiteral("a gateway needs a preset, an idle_timeout or a max_duration"));
            return std::nullopt;
        }
        if (const Value *d = x.find(u"idle_timeout"))
            if (auto t = m_read.duration(*d, 1ms, {QStringLiteral("none")}))
                g.idleTimeout = *t;
        if (const Value *d = x.find(u"max_duration"))
            if (auto t = m_read.duration(*d, 1ms, {QStringLiteral("none")}))
                g.maxDuration = *t;
        return g;
    }

    QList<LinkFault> readFaults(const Value &x)
    {
        QList<LinkFault> faults;
        if (!m_read.expectSequence(x, QStringLiteral("faults like [{ at: 10s, down_for: 2s }]")))
            return faults;
        for (const Value &item : x.items) {
            if (!m_read.expectMap(item, QStringLiteral("a fault like { at: 10s, down_for: 2s }")))
                continue;
            m_read.checkKeys(item, kFaultKeys);
            LinkFault f;
            if (const Value *at = m_read.require(item, QStringLiteral("at"), QStringLiteral("when the link goes down, like 10s")))
                if (auto d = m_read.requiredDuration(*at, 0us))
                    f.at = *d;
            if (const Value *down = m_read.require(item, QStringLiteral("down_for"), QStringLiteral("how long it stays down, like 2s")))
                if (auto d = m_read.requiredDuration(*down, 1ms))
                    f.downFor = *d;
            if (!faults.isEmpty() && f.at < faults.back().at + faults.back().downFor)
                m_report.at(item, QStringLiteral("faults must be in time order without overlap; this one starts at %1, "
                                                 "before the previous one ends at %2")
                                      .arg(units::formatDuration(f.at), units::formatDuration(faults.back().at + faults.back().downFor)));
            faults << f;
        }
        return faults;
    }

    void readPublisher(Variant &v)
    {
        const Value *p = m_read.require(m_root, QStringLiteral("publisher"), QStringLiteral("where events come from and how often, like { at: origin, rate: 20/s }"));
        if (!p || !m_read.expectMap(*p, QStringLiteral("a publisher like { at: origin, rate: 20/s, payload: 256B }")))
            return;
        m_read.checkKeys(*p, kPublisherKeys);
        QStringList origins;
        for (const Node &n : v.nodes)
            if (n.kind == NodeKind::Origin)
                origins << n.name;
        if (const Value *at = p->find(u"at")) {
            if (auto s = m_read.scalar(*at, QStringLiteral("an origin node name"))) {
                v.publisher.at = *s;
                const Node *n = v.node(*s);
                if (!n && !v.nodes.isEmpty())
                    unknownReference(*at, *s, QStringLiteral("node"), origins);
                else if (n && n->kind != NodeKind::Origin && !origins.isEmpty())
                    m_report.at(*at, QStringLiteral("\"%1\" is a pop; the publisher is attached to an origin (%2)")
                                         .arg(*s, origins.join(QStringLiteral(", "))));
            }
        } else if (origins.size() == 1) {
            v.publisher.at = origins.first();
        } else if (origins.size() > 1) {
            m_report.at(*p, QStringLiteral("missing required key \"at\": the scenario has %1 origins (%2); say which one publishes")
                                .arg(origins.size())
                                .arg(origins.join(QStringLiteral(", "))));
        }
        if (const Value *r = m_read.require(*p, QStringLiteral("rate"), QStringLiteral("events per second, like 20/s"))) {
            if (auto rate = m_read.unit(*r, QStringLiteral("a rate like 20/s"), [](QStringView t, QString *e) { return units::parseRate(t, e); })) {
                if (*rate < kMinRate || *rate > 100'000)
                    m_report.at(*r, QStringLiteral("rate must be at least %1/s (one event every %2s) and at most 100000/s, got %3")
                                        .arg(kMinRate)
                                        .arg(1 / kMinRate)
                                        .arg(r->scalar));
                else
                    v.publisher.rate = *rate;
            }
        }
        if (const Value *x = p->find(u"pattern"))
            if (auto pattern = m_read.choice<PublishPattern>(*x, QStringLiteral("publish pattern")))
                v.publisher.pattern = *pattern;
        if (const Value *x = p->find(u"burst_size"))
            if (auto n = m_read.integer(*x, 1, 100'000, QStringLiteral("burst_size")))
                v.publisher.burstSize = int(*n);
        if (const Value *x = p->find(u"payload")) {
            m_payloadValue = x;
            if (auto b = m_read.unit(*x, QStringLiteral("a size like 256B"), [](QStringView t, QString *e) { return units::parseBytes(t, e); })) {
                if (*b > 1024 * 1024)
                    m_report.at(*x, QStringLiteral("payload must be at most 1MB, got %1").arg(x->scalar));
                else
                    v.publisher.payloadBytes = *b;
            }
        }
        readPublishHook(*p, v);
    }

    // post / body: EdgeSSE drives an external origin's publish endpoint.
    void readPublishHook(const Value &p, Variant &v)
    {
        const Value *post = p.find(u"post");
        const Value *body = p.find(u"body");
        if (body && !post)
            m_report.at(*body, QStringLiteral("body is what the publisher POSTs; add post: with the origin's publish URL"));
        if (!post)
            return;
        const auto url = m_read.scalar(*post, QStringLiteral("a URL like http://127.0.0.1:{port}/publish"));
        if (!url)
            return;
        const Node *origin = v.node(v.publisher.at);
        if (origin && !origin->external) {
            m_report.at(*post, QStringLiteral("post drives an external origin's publish endpoint; \"%1\" is EdgeSSE's own "
                                              "(add command: or url: to it, or remove post:)").arg(origin->name));
            return;
        }
        const QUrl u(QString(*url).replace(QStringLiteral("{port}"), QStringLiteral("1")), QUrl::StrictMode);
        if (!u.isValid() || u.scheme() != QLatin1String("http") || u.host().isEmpty()) {
            m_report.at(*post, QStringLiteral("post must be an http:// URL, like http://127.0.0.1:{port}/publish; got \"%1\"").arg(*url));
            return;
        }
        static const QStringList allowed{QStringLiteral("port"), QStringLiteral("seq"), QStringLiteral("payload")};
        for (const Value *x : {post, body}) {
            if (!x)
                continue;
            for (const QString &name : placeholderNames(x->scalar))
                if (!allowed.contains(name))
                    m_report.at(*x, QStringLiteral("unknown placeholder {%1}; the publisher knows {port}, {seq} and {payload}").arg(name));
        }
        v.publisher.post = *url;
        if (body)
            if (auto b = m_read.scalar(*body, QStringLiteral("the text to POST")))
                v.publisher.body = *b;
    }

    void readSse(Variant &v)
    {
        const Value *s = m_root.find(u"sse");
        if (!s || !m_read.expectMap(*s, QStringLiteral("SSE settings like { heartbeat: 15s, retry: 3s, replay: 1000 }")))
            return;
        m_read.checkKeys(*s, kSseKeys);
        if (const Value *x = s->find(u"heartbeat"))
            if (auto d = m_read.duration(*x, 1ms, {QStringLiteral("off"), QStringLiteral("none"), QStringLiteral("false")}))
                v.sse.heartbeat = *d;
        if (const Value *x = s->find(u"retry"))
            if (auto d = m_read.requiredDuration(*x, 0us))
                v.sse.retry = *d;
        if (const Value *x = s->find(u"replay")) {
            m_replayValue = x;
            if (auto n = m_read.integer(*x, 0, 1'000'000, QStringLiteral("replay")))
                v.sse.replay = int(*n);
        }
        if (const Value *x = s->find(u"max_concurrent_streams"))
            if (auto n = m_read.integer(*x, 1, 100'000, QStringLiteral("max_concurrent_streams")))
                v.sse.maxConcurrentStreams = int(*n);
    }

    void readPricing(Variant &v)
    {
        const Value *p = m_root.find(u"pricing");
        if (!p || (p->isScalar() && p->scalar == QLatin1String("none")))
            return;
        if (!m_read.expectMap(*p, QStringLiteral("prices like { per_million_requests: 0.60, per_gb_egress: 0.09 }")))
            return;
        m_read.checkKeys(*p, kPricingKeys);
        Pricing pricing;
        if (const Value *x = p->find(u"currency"))
            if (auto s = m_read.scalar(*x, QStringLiteral("a currency code like USD")))
                pricing.currency = *s;
        const auto price = [&](const char16_t *key, double &field) {
            if (const Value *x = p->find(key))
                if (auto n = m_read.number(*x, 0, 1e9, QStringLiteral("a price")))
                    field = *n;
        };
        price(u"per_million_requests", pricing.perMillionRequests);
        price(u"per_gb_egress", pricing.perGbEgress);
        price(u"per_connection_hour", pricing.perConnectionHour);
        price(u"per_gb_second", pricing.perGbSecond);
        price(u"per_instance_hour", pricing.perInstanceHour);
        price(u"per_instance_gb_second", pricing.perInstanceGbSecond);
        if (const Value *x = p->find(u"memory")) {
            if (auto b = m_read.unit(*x, QStringLiteral("a size like 128MB"), [](QStringView t, QString *e) { return units::parseBytes(t, e); })) {
                if (*b <= 0 || *b > kMaxMemoryBytes)
                    m_report.at(*x, QStringLiteral("memory must be above 0B and at most %1, got %2").arg(units::formatBytes(kMaxMemoryBytes), x->scalar));
                else
                    pricing.memoryBytes = *b;
            }
        }
        v.pricing = pricing;
    }

    // Only on a variant that read cleanly: references exist, so placement and budget can be judged.
    void checkSemantics(const Variant &v)
    {
        const QString variantLabel = QStringLiteral("variant \"%1\" (placement %2)").arg(m_label, keyword(v.placement));
        for (const ClientGroup &g : v.clients) {
            const QStringList hops = v.path(g);
            for (qsizetype i = 1; i < hops.size(); ++i) {
                if (v.linkBetween(hops[i - 1], hops[i]))
                    continue;
                const Value *where = m_placementValue ? m_placementValue : m_groupValues.value(g.name);
                const QString why = i == 1 && hops.size() == 3 ? QStringLiteral("client group \"%1\" reaches its PoP over it").arg(g.name)
                    : i == 1                                  ? QStringLiteral("client group \"%1\" reaches the origin over it").arg(g.name)
                                                              : QStringLiteral("PoP \"%1\" subscribes to the origin over it").arg(hops[i - 1]);
                m_report.at(*where, QStringLiteral("%1 needs a link between \"%2\" and \"%3\" (%4); add { between: [%2, %3], latency: ... } to links")
                                        .arg(variantLabel, hops[i - 1], hops[i], why));
            }
        }
        checkExternalOrigin(v, variantLabel);
        checkHttp3(v, variantLabel);
        checkReplayFits(v);
        checkRouting(m_read, v, m_nodeValues);
        const QString budget = m_options.descriptorBudget ? net::checkDescriptorBudget(v.descriptorsNeeded(m_options.simulatedClients))
                                                          : QString();
        if (!budget.isEmpty()) {
            const ClientGroup *largest = nullptr;
            for (const ClientGroup &g : v.clients)
                if (!largest || v.clientConnections(g) > v.clientConnections(*largest))
                    largest = &g;
            const Value *group = largest ? m_groupValues.value(largest->name) : nullptr;
            const Value *where = group && group->find(u"count") ? group->find(u"count") : (m_variantItem ? m_variantItem : &m_root);
            m_report.at(*where, QStringLiteral("variant \"%1\" opens %2 connections: %3")
                                    .arg(v.name)
                                    .arg(v.connectionsNeeded(m_options.simulatedClients))
                                    .arg(budget));
        }
    }

    // replay: events of the publisher's payload must fit the replay buffer's byte bound.
    void checkReplayFits(const Variant &v)
    {
        const qint64 perEvent = v.publisher.payloadBytes + kReplayEventFramingBytes + kReplayEntryOverheadBytes;
        const qint64 needed = qint64(v.sse.replay) * perEvent;
        if (needed <= kMaxReplayBytes)
            return;
        const Value *where = m_replayValue ? m_replayValue : m_payloadValue;
        if (!where)
            return;
        const QString asked = m_replayValue ? QStringLiteral("replay: %1").arg(v.sse.replay)
                                            : QStringLiteral("the default replay: %1").arg(v.sse.replay);
        m_report.at(*where, QStringLiteral("%1 events of a %2 payload need at least %3 (each event costs its payload + %4B), "
                                           "beyond the replay buffer's limit of %5; ask for replay: %6 or fewer, or a smaller payload")
                                .arg(asked, units::formatBytes(v.publisher.payloadBytes),
                                     QString::number(double(needed) / (1024 * 1024), 'f', 1) + QStringLiteral("MB"))
                                .arg(kReplayEventFramingBytes + kReplayEntryOverheadBytes)
                                .arg(units::formatBytes(kMaxReplayBytes))
                                .arg(kMaxReplayBytes / perEvent));
    }

    // HTTP/3 is spoken by the simulated browsers' EventSources to EdgeSSE's own servers.
    void checkHttp3(const Variant &v, const QString &variantLabel)
    {
        for (const ClientGroup &g : v.clients) {
            if (v.protocolFor(g) != Protocol::Http3)
                continue;
            const QStringList hops = v.path(g);
            const Node *node = hops.size() >= 2 ? v.node(hops[1]) : nullptr;
            QString why;
            if (g.delivery != Delivery::Sse)
                why = QStringLiteral("HTTP/3 carries EventSource streams here: remove delivery (or set it to sse), or use protocol: http2");
            else if (g.realBrowser)
                why = QStringLiteral("a real browser population speaks HTTP/1.1 or HTTP/2 here: use protocol: http2 for it");
            else if (node && node->external)
                why = QStringLiteral("\"%1\" is an external server, and EdgeSSE serves HTTP/3 only from its own: use protocol: http2").arg(node->name);
            else if (node && node->routed())
                why = QStringLiteral("http3 behind a balancer is not supported yet (\"%1\" has instances, autoscale, faults or "
                                     "accept_rate; its balancer passes TCP only): use protocol: http2, or a single server there").arg(node->name);
            else if (const QList<const Link *> links = v.pathLinks(g);
                     v.discoveryFor(g) == Discovery::AltSvc && !links.isEmpty() && links.front() && !links.front()->tls)
                why = QStringLiteral("discovery: alt-svc needs tls: true on its link (browsers follow Alt-Svc only from HTTPS "
                                     "origins), or use discovery: forced");
            if (why.isEmpty())
                continue;
            const Value *where = m_groupValues.value(g.name);
            m_report.at(where ? *where : m_root, QStringLiteral("%1: client group \"%2\" with protocol http3: %3").arg(variantLabel, g.name, why));
            return;
        }
    }

    // The first link reads an external origin's events from HTTP/1.1 responses.
    void checkExternalOrigin(const Variant &v, const QString &variantLabel)
    {
        const Node *origin = v.origin();
        if (!origin || !origin->external)
            return;
        for (const ClientGroup &g : v.clients) {
            const QStringList hops = v.path(g);
            const QString before = hops.size() >= 2 ? hops[hops.size() - 2] : QString();
            const Node *pop = v.node(before);
            const bool http2 = pop ? (!pop->external && v.protocol == Protocol::Http2) : v.protocolFor(g) == Protocol::Http2;
            if (!http2)
                continue;
            const Value *where = m_placementValue ? m_placementValue : m_groupValues.value(g.name);
            m_report.at(*where, QStringLiteral("%1 speaks HTTP/2 to the external origin \"%2\" (from \"%3\"); EdgeSSE reads "
                                               "the events of a server it did not publish from HTTP/1.1: use protocol: http1 there")
                                    .arg(variantLabel, origin->name, before));
            return;
        }
    }

    void unknownReference(const Value &at, const QString &name, const QString &what, const QStringList &candidates)
    {
        const QString best = suggestion(name, candidates);
        QString message = QStringLiteral("no %1 named \"%2\"").arg(what, name);
        if (!best.isEmpty())
            message += QStringLiteral("; did you mean \"%1\"?").arg(best);
        else if (!candidates.isEmpty())
            message += QStringLiteral("; known: %1").arg(candidates.join(QStringLiteral(", ")));
        m_report.at(at, message);
    }

    static QStringList nodeNames(const Variant &v)
    {
        QStringList names;
        for (const Node &n : v.nodes)
            names << n.name;
        return names;
    }

    static QStringList groupNames(const Variant &v)
    {
        QStringList names;
        for (const ClientGroup &g : v.clients)
            names << g.name;
        return names;
    }

    Reader &m_read;
    Report &m_report;
    const Value &m_root;
    const Value *m_variantItem = nullptr;
    LoadOptions m_options;
    QString m_label;
    const Value *m_placementValue = nullptr;
    const Value *m_replayValue = nullptr;
    const Value *m_payloadValue = nullptr;
    bool m_nodesUnreadable = false; // then references to nodes are not judged
    bool m_clientsUnreadable = false;
    QHash<QString, const Value *> m_nodeValues;
    QHash<QString, const Value *> m_groupValues;
    QHash<qsizetype, const Value *> m_linkValues;
};

} // namespace

std::optional<Variant> resolveVariant(Reader &reader, const Value &tree, const QString &name, const QString &label,
                                      const Value *variantItem, const LoadOptions &options)
{
    Resolver resolver(reader, tree, options);
    return resolver.resolve(name, label, variantItem);
}

} // namespace edgesse::scenario::loader
