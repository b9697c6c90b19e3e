#include "core/sim/topologyplan.h"

#include "core/sim/modelsettings.h"
#include "core/util/random.h"

#include <algorithm>

namespace edgesse::sim {

namespace {

// Purposes of derived seeds: fixed ranges, so adding a link does not change the
// publisher's schedule or a browser's draws.
constexpr std::uint64_t kPublisherSeed = 1;
constexpr std::uint64_t kFirstLinkSeed = 1000;
constexpr std::uint64_t kFirstBrowserSeed = 100000;
constexpr std::uint64_t kBrowserSeedsPerGroup = 1000003;
constexpr std::uint64_t kArrivalSeed = 1; // derived from a browser's own seed
constexpr std::uint64_t kFirstBalancerSeed = 500; // one a node, by its place in the plan

// The nodes the groups' paths go through, the origin first, then the fallbacks of those.
QStringList nodesInUse(const scenario::Variant &v, const scenario::Node &origin)
{
    QStringList names{origin.name};
    for (const auto &group : v.clients) {
        const QStringList path = v.path(group);
        for (int i = 1; i < path.size(); ++i) {
            if (!names.contains(path[i]))
                names.push_back(path[i]);
        }
    }
    for (qsizetype i = 1; i < names.size(); ++i) {
        if (const scenario::Node *n = v.node(names[i]))
            for (const QString &f : n->fallback)
                if (!names.contains(f) && v.node(f))
                    names.push_back(f);
    }
    return names;
}

// When a whole node is down: [from, until) intervals from its faults (until: forever).
std::vector<std::pair<std::chrono::microseconds, std::chrono::microseconds>> downtime(const scenario::Node &n)
{
    std::vector<std::pair<std::chrono::microseconds, std::chrono::microseconds>> down;
    for (const auto &f : n.faults)
        if (f.instance < 0)
            down.emplace_back(f.at, f.downFor ? f.at + std::max(*f.downFor, f.grace) : std::chrono::microseconds::max());
    return down;
}

bool upAt(const scenario::Node &n, std::chrono::microseconds t)
{
    for (const auto &[from, until] : downtime(n))
        if (t >= from && t < until)
            return false;
    return true;
}

// What the population's name resolves to: the first of [node, fallbacks...] up at each
// moment a node goes down or comes back, learnt `reresolution` later.
std::vector<std::pair<std::chrono::microseconds, int>> resolution(const scenario::Variant &v, const scenario::Node &n)
{
    std::vector<std::chrono::microseconds> moments;
    std::vector<const scenario::Node *> choices{&n};
    for (const QString &f : n.fallback)
        choices.push_back(v.node(f));
    for (const scenario::Node *c : choices)
        for (const auto &[from, until] : downtime(*c)) {
            moments.push_back(from);
            if (until != std::chrono::microseconds::max())
                moments.push_back(until);
        }
    std::sort(moments.begin(), moments.end());
    std::vector<std::pair<std::chrono::microseconds, int>> changes;
    int current = 0;
    for (const auto t : moments) {
        int pick = 0;
        while (pick < int(choices.size()) && !upAt(*choices[std::size_t(pick)], t))
            ++pick;
        if (pick < int(choices.size()) && pick != current) {
            changes.emplace_back(t + n.reresolution, pick);
            current = pick;
        }
    }
    return changes;
}

class Planner
{
public:
    Planner(const scenario::Variant &v, TopologyPlan &plan) : m_v(v), m_plan(plan) {}

    // The origin serves from thread 0; PoPs and links take the threads round-robin from the
    // next one, so that an origin and the link in front of it do not share a thread.
    int nextThread() { return m_nextThread++ % m_plan.threadCount; }

    bool addLink(const QString &from, const QString &to, int group, QString *error)
    {
        const scenario::Link *config = m_v.linkBetween(from, to);
        if (!config) {
            *error = QStringLiteral("no link between %1 and %2").arg(from, to);
            return false;
        }
        TopologyPlan::Link l;
        l.name = from + QStringLiteral("->") + to;
        l.from = from;
        l.to = to;
        l.target = m_plan.nodeIndex(to);
        l.config = config;
        l.group = group;
        l.thread = nextThread();
        l.settings = linkSettings(*config, util::derivedSeed(m_v.seed, kFirstLinkSeed + m_linkSeeds++));
        // A population's link is each browser's own access line; a link between nodes one pipe.
        l.settings.sharing = group >= 0 ? link::BandwidthSharing::PerPeer : link::BandwidthSharing::PerLink;
        m_plan.links.push_back(std::move(l));
        return true;
    }

private:
    const scenario::Variant &m_v;
    TopologyPlan &m_plan;
    int m_nextThread = 1;
    std::uint64_t m_linkSeeds = 0;
};

ClientsPart::Browser browserPlan(const scenario::Variant &v, const TopologyPlan::Group &plan, int g, qint64 b)
{
    const scenario::ClientGroup &group = v.clients[g];
    ClientsPart::Browser browser;
    browser.group = g;
    browser.index = int(b);
    browser.config = &group;
    browser.protocol = v.protocolFor(group);
    browser.altSvcDiscovery = browser.protocol == scenario::Protocol::Http3 && v.discoveryFor(group) == scenario::Discovery::AltSvc;
    browser.node = plan.node;
    browser.retry = v.sse.retry;
    browser.rejectionRetry = rejectionRetryAfter(v.sse);
    // Lets a stream name why its connection ended (idle reap, max duration).
    if (const scenario::Link *l = v.linkBetween(group.name, plan.node); l && l->gateway) {
        browser.idleReapHint = l->gateway->idleTimeout.value_or(std::chrono::microseconds(0));
        browser.maxDurationHint = l->gateway->maxDuration.value_or(std::chrono::microseconds(0));
    }
    if (const scenario::Node *n = v.node(plan.node); n && n->maxStreamDuration) {
        const auto serverLimit = *n->maxStreamDuration;
        if (browser.maxDurationHint == std::chrono::microseconds(0) || serverLimit < browser.maxDurationHint)
            browser.maxDurationHint = serverLimit;
    }
    browser.seed = util::derivedSeed(v.seed, kFirstBrowserSeed + std::uint64_t(g) * kBrowserSeedsPerGroup + std::uint64_t(b));
    // Its arrival: uniform over the spread, from a seed of its own.
    std::uint64_t arrival = util::derivedSeed(browser.seed, kArrivalSeed);
    browser.arriveAfter = std::chrono::microseconds(
        std::int64_t(util::unitInterval(arrival) * double(v.arrivalSpread().count())));
    if (std::any_of(v.nodes.begin(), v.nodes.end(), [](const scenario::Node &n) { return n.routed(); }))
        browser.clientId = group.name.toUtf8() + '-' + QByteArray::number(b);
    return browser;
}

bool planNodesAndLinks(const scenario::Variant &v, const scenario::Node &origin, TopologyPlan &plan, QString *error)
{
    Planner planner(v, plan);
    for (const QString &name : nodesInUse(v, origin)) {
        TopologyPlan::Node n;
        n.name = name;
        n.config = v.node(name);
        n.origin = n.config == &origin;
        n.thread = n.origin ? 0 : planner.nextThread();
        n.seed = util::derivedSeed(v.seed, kFirstBalancerSeed + plan.nodes.size());
        plan.nodes.push_back(std::move(n));
    }
    for (auto &n : plan.nodes) {
        if (n.origin)
            continue;
        if (!planner.addLink(n.name, origin.name, -1, error))
            return false;
        n.upstreamLink = int(plan.links.size()) - 1;
    }
    for (int g = 0; g < v.clients.size(); ++g) {
        const auto &group = v.clients[g];
        const QStringList path = v.path(group);
        if (path.size() < 2) {
            *error = QStringLiteral("client population %1 has no path to the origin").arg(group.name);
            return false;
        }
        if (!planner.addLink(group.name, path[1], g, error))
            return false;
        plan.groups.push_back({group.name, path[1], int(plan.links.size()) - 1, v.pathLatency(group),
                               group.delivery == scenario::Delivery::Sse, {}, {}});
        const scenario::Node *near = v.node(path[1]);
        if (!near || near->fallback.isEmpty() || path.size() < 3)
            continue;
        for (const QString &f : near->fallback) {
            if (!planner.addLink(group.name, f, g, error))
                return false;
            plan.groups.back().fallbackLinks.push_back(int(plan.links.size()) - 1);
        }
        plan.groups.back().resolution = resolution(v, *near);
    }
    return true;
}

} // namespace

const TopologyPlan::Node *TopologyPlan::node(const QString &name) const
{
    const int i = nodeIndex(name);
    return i < 0 ? nullptr : &nodes[std::size_t(i)];
}

int TopologyPlan::nodeIndex(const QString &name) const
{
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].name == name)
            return int(i);
    }
    return -1;
}

std::size_t TopologyPlan::browserCount() const
{
    std::size_t n = 0;
    for (const auto &onThread : browsers)
        n += onThread.size();
    return n;
}

std::optional<TopologyPlan> planTopology(const scenario::Variant &v, int threadCount, bool simulatedClients,
                                         QString *error)
{
    const scenario::Node *origin = v.origin();
    if (!origin) {
        *error = QStringLiteral("the publisher is not attached to an origin node");
        return std::nullopt;
    }
    TopologyPlan plan;
    plan.threadCount = std::max(threadCount, 1);
    if (!planNodesAndLinks(v, *origin, plan, error))
        return std::nullopt;
    plan.publisherThread = plan.nodes.front().thread;
    plan.publisher = publishSettings(v.publisher, util::derivedSeed(v.seed, kPublisherSeed));
    plan.browsers.resize(std::size_t(plan.threadCount));
    int next = 0;
    for (int g = 0; simulatedClients && g < v.clients.size(); ++g) {
        for (qint64 b = 0; b < v.clients[g].count; ++b)
            plan.browsers[std::size_t(next++ % plan.threadCount)].push_back(browserPlan(v, plan.groups[std::size_t(g)], g, b));
    }
    return plan;
}

} // namespace edgesse::sim
