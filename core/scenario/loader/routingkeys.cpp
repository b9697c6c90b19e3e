#include "core/scenario/loader/routingkeys.h"

#include "core/scenario/units.h"

#include <cmath>

namespace edgesse::scenario::loader {

using namespace std::chrono_literals;

const QStringList kRoutingNodeKeys{QStringLiteral("instances"), QStringLiteral("balance"), QStringLiteral("autoscale"),
                                   QStringLiteral("faults"), QStringLiteral("fallback"), QStringLiteral("re_resolution"),
                                   QStringLiteral("accept_rate"), QStringLiteral("accept_burst")};

namespace {

constexpr int kMaxInstances = 256;
const QStringList kAutoscaleKeys{QStringLiteral("min"), QStringLiteral("max"), QStringLiteral("cold_start"),
                                 QStringLiteral("scale_in_after"), QStringLiteral("when_full")};
const QStringList kNodeFaultKeys{QStringLiteral("at"), QStringLiteral("action"), QStringLiteral("instance"),
                                 QStringLiteral("down_for"), QStringLiteral("grace")};

std::optional<Autoscale> readAutoscale(Reader &read, const Value &x)
{
    if (!read.expectMap(x, QStringLiteral("autoscaling like { min: 1, max: 20, cold_start: 250ms, scale_in_after: 60s }")))
        return std::nullopt;
    read.checkKeys(x, kAutoscaleKeys);
    Autoscale a;
    if (const Value *v = x.find(u"min"))
        if (auto n = read.integer(*v, 1, kMaxInstances, QStringLiteral("min")))
            a.min = int(*n);
    a.max = a.min;
    if (const Value *v = x.find(u"max"))
        if (auto n = read.integer(*v, 1, kMaxInstances, QStringLiteral("max")))
            a.max = int(*n);
    if (a.max < a.min)
        read.report().at(*x.find(u"max"), QStringLiteral("autoscale max (%1) is below min (%2); raise max or lower min").arg(a.max).arg(a.min));
    if (const Value *v = x.find(u"cold_start"))
        if (auto d = read.requiredDuration(*v, 0us))
            a.coldStart = *d;
    if (const Value *v = x.find(u"scale_in_after"))
        if (auto d = read.requiredDuration(*v, 1ms))
            a.scaleInAfter = *d;
    if (const Value *v = x.find(u"when_full"))
        if (auto w = read.choice<WhenFull>(*v, QStringLiteral("when_full")))
            a.whenFull = *w;
    return a;
}

std::optional<NodeFault> readNodeFault(Reader &read, const Value &item, const Node &node)
{
    if (!read.expectMap(item, QStringLiteral("a fault like { at: 10s, action: crash }")))
        return std::nullopt;
    read.checkKeys(item, kNodeFaultKeys);
    NodeFault f;
    if (const Value *at = read.require(item, QStringLiteral("at"), QStringLiteral("when the fault strikes, like 10s")))
        if (auto d = read.requiredDuration(*at, 0us))
            f.at = *d;
    if (const Value *a = read.require(item, QStringLiteral("action"), QStringLiteral("crash or drain")))
        if (auto k = read.choice<NodeFaultKind>(*a, QStringLiteral("fault action")))
            f.kind = *k;
    const int instances = node.autoscale ? node.autoscale->max : node.instances;
    if (const Value *i = item.find(u"instance")) {
        if (i->isScalar() && i->scalar == QLatin1String("all"))
            f.instance = -1;
        else if (auto n = read.integer(*i, 0, instances - 1, QStringLiteral("an instance index (0 to %1) or all").arg(instances - 1)))
            f.instance = int(*n);
    }
    if (const Value *d = item.find(u"down_for"))
        if (auto v = read.duration(*d, 1ms, {QStringLiteral("forever")}))
            f.downFor = *v;
    if (const Value *g = item.find(u"grace")) {
        if (auto d = read.requiredDuration(*g, 0us))
            f.grace = *d;
        if (f.kind != NodeFaultKind::Drain)
            read.report().at(*g, QStringLiteral("grace applies to action: drain; a crash resets its connections at once"));
    }
    return f;
}

QList<NodeFault> readNodeFaults(Reader &read, const Value &x, const Node &node)
{
    QList<NodeFault> faults;
    if (!read.expectSequence(x, QStringLiteral("faults like [{ at: 10s, action: crash }]")))
        return faults;
    for (const Value &item : x.items) {
        auto f = readNodeFault(read, item, node);
        if (!f)
            continue;
        if (!faults.isEmpty() && f->at < faults.back().at)
            read.report().at(item, QStringLiteral("node faults must be in time order; this one is at %1, before the previous one at %2")
                                       .arg(units::formatDuration(f->at), units::formatDuration(faults.back().at)));
        faults << *f;
    }
    return faults;
}

void readFallback(Reader &read, const Value &x, Node &node)
{
    if (x.isScalar()) {
        node.fallback << x.scalar;
        return;
    }
    if (!read.expectSequence(x, QStringLiteral("PoP names like [pop-ams, pop-lhr]")))
        return;
    for (const Value &item : x.items)
        if (auto name = read.scalar(item, QStringLiteral("a PoP name")))
            node.fallback << *name;
}

// A balancer's admission: `accept_rate` requests a second, `accept_burst` at once (by
// default a tenth of a second's worth).
void readAdmission(Reader &read, const Value &spec, Node &node)
{
    if (const Value *x = spec.find(u"accept_rate")) {
        if (auto rate = read.unit(*x, QStringLiteral("a rate like 500/s"), [](QStringView t, QString *e) { return units::parseRate(t, e); })) {
            if (*rate <= 0)
                read.report().at(*x, QStringLiteral("accept_rate must be above 0/s; drop the key to admit every request"));
            else
                node.acceptRate = *rate;
        }
        node.acceptBurst = std::max(1.0, std::floor(node.acceptRate / 10));
    }
    if (const Value *x = spec.find(u"accept_burst")) {
        if (!spec.find(u"accept_rate"))
            read.report().at(*x, QStringLiteral("accept_burst needs accept_rate (the requests a second the balancer admits)"));
        else if (auto n = read.integer(*x, 1, 10'000'000, QStringLiteral("accept_burst")))
            node.acceptBurst = double(*n);
    }
}

} // namespace

void readRouting(Reader &read, const Value &spec, Node &node)
{
    if (const Value *x = spec.find(u"instances"))
        if (auto n = read.integer(*x, 1, kMaxInstances, QStringLiteral("instances")))
            node.instances = int(*n);
    if (const Value *x = spec.find(u"balance"))
        if (auto b = read.choice<BalancePolicy>(*x, QStringLiteral("balance policy")))
            node.balance = *b;
    if (const Value *x = spec.find(u"autoscale")) {
        node.autoscale = readAutoscale(read, *x);
        if (node.autoscale && spec.find(u"instances"))
            read.report().at(*spec.find(u"instances"), QStringLiteral("instances and autoscale both set; autoscale's min is the starting count, drop instances"));
        if (node.autoscale)
            node.instances = node.autoscale->min;
        if (node.autoscale && node.maxConnections == 0)
            read.report().at(*x, QStringLiteral("autoscale needs max_connections (per instance): a new instance starts when every instance is at it"));
    }
    if (const Value *x = spec.find(u"faults"))
        node.faults = readNodeFaults(read, *x, node);
    readAdmission(read, spec, node);
    if (const Value *x = spec.find(u"fallback")) {
        readFallback(read, *x, node);
        if (node.kind != NodeKind::Pop)
            read.report().at(*x, QStringLiteral("fallback applies to a pop; an origin's clients have nowhere else to go"));
    }
    if (const Value *x = spec.find(u"re_resolution"))
        if (auto d = read.requiredDuration(*x, 0us))
            node.reresolution = *d;
    if (node.external && node.routed())
        read.report().at(spec, QStringLiteral("an external node cannot have instances, autoscale or faults: EdgeSSE does not run its processes"));
}

void checkRouting(Reader &read, const Variant &v, const QHash<QString, const Value *> &nodeValues)
{
    for (const Node &n : v.nodes) {
        const Value *spec = nodeValues.value(n.name);
        if (!spec)
            continue;
        const Value *where = spec->find(u"fallback") ? spec->find(u"fallback") : spec;
        for (const QString &f : n.fallback) {
            const Node *target = v.node(f);
            if (!target || target->kind != NodeKind::Pop || f == n.name) {
                read.report().at(*where, QStringLiteral("fallback \"%1\" is not another PoP of this scenario; name a node of kind pop").arg(f));
                continue;
            }
            for (const ClientGroup &g : v.clients)
                if (g.near == n.name && v.placement == Placement::Edge && !v.linkBetween(g.name, f))
                    read.report().at(*where, QStringLiteral("client group \"%1\" fails over to \"%2\" but no link joins them; add { between: [%1, %2], latency: ... } to links")
                                                 .arg(g.name, f));
        }
        if (n.balance != BalancePolicy::Hash || !n.routed())
            continue;
        const Value *balance = spec->find(u"balance") ? spec->find(u"balance") : spec;
        if (v.protocol != Protocol::Http1)
            read.report().at(*balance, QStringLiteral("hash reads the client's cookie from its HTTP/1.1 request; with protocol %1 choose round-robin, least-connections or random")
                                           .arg(keyword(v.protocol)));
        for (const Link &l : v.links)
            if (l.tls && (l.a == n.name || l.b == n.name))
                read.report().at(*balance, QStringLiteral("hash cannot read the cookie of a TLS connection (link %1-%2 has tls: true); choose another policy or drop tls")
                                               .arg(l.a, l.b));
    }
}

} // namespace edgesse::scenario::loader
