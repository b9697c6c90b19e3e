#include "core/sim/livetopology.h"

#include "core/net/deadlinequeue.h"
#include "core/sim/routingpart.h"

#include <QHostAddress>

#include <algorithm>

namespace edgesse::sim {

LiveTopology::LiveTopology(const scenario::Variant &variant, const TopologyPlan &plan,
                           std::shared_ptr<const tls::TlsIdentity> tls, const QString &externalFolder)
    : m_v(variant)
    , m_plan(plan)
    , m_tls(std::move(tls))
    , m_shared(std::size_t(plan.threadCount))
    , m_threads(plan.threadCount)
{
    if (variant.runsOutsideClock())
        m_external = std::make_unique<ExternalStack>(variant, m_shared, externalFolder, m_tls ? &m_tls->credentials : nullptr);
    for (int i = 0; i < plan.threadCount; ++i)
        m_recorders.push_back(std::make_unique<StreamRecorder>(m_shared, std::size_t(i)));
    const bool http3 = std::any_of(variant.clients.begin(), variant.clients.end(), [&](const scenario::ClientGroup &g) {
        return variant.protocolFor(g) == scenario::Protocol::Http3;
    });
    if (http3 && m_tls) {
        QString error; // the certificate was checked when the identity was made
        m_quicServer = quic::QuicTls::server(m_tls->credentials.certificatePem, m_tls->credentials.privateKeyPem, &error);
        m_quicClient = quic::QuicTls::client(m_tls->credentials.caCertificatePem, &error);
    }
    for (const auto &group : plan.groups) {
        m_shared.groups.push_back(
            std::make_unique<GroupMetrics>(group.name, group.pathLatency, group.push, std::size_t(plan.threadCount)));
    }
}

LiveTopology::~LiveTopology() = default;

bool LiveTopology::startServer(std::size_t node, QString *error)
{
    const TopologyPlan::Node &n = m_plan.nodes[node];
    QString problem;
    m_servers[node] = OnThread<ServerPart>::make(m_threads, n.thread, [&] {
        auto part = std::make_unique<ServerPart>(serverSettings(m_v, *n.config), m_tls->server, nullptr, m_quicServer);
        if (!part->listen(&problem))
            part.reset();
        return part;
    });
    if (m_servers[node])
        return true;
    *error = n.origin ? QStringLiteral("the origin %1 could not listen: %2").arg(n.name, problem)
                      : QStringLiteral("PoP %1 could not listen: %2").arg(n.name, problem);
    return false;
}

bool LiveTopology::startLink(std::size_t link, QString *error)
{
    const TopologyPlan::Link &l = m_plan.links[link];
    const quint16 targetPort = m_ports[std::size_t(l.target)];
    // A PoP's hold time counts from when an event reached it: its upstream link's latency.
    const TopologyPlan::Node &target = m_plan.nodes[std::size_t(l.target)];
    const auto upstreamLatency = target.upstreamLink >= 0 ? m_plan.links[std::size_t(target.upstreamLink)].config->latency
                                                          : std::chrono::microseconds(0);
    link::SseTap::Factory tap = m_external ? m_external->tapFor(target.name, upstreamLatency) : link::SseTap::Factory();
    QString problem;
    m_links[link] = OnThread<link::LinkProxy>::make(m_threads, l.thread, [&] {
        auto proxy = std::make_unique<link::LinkProxy>(l.settings, QHostAddress::LocalHost, targetPort,
                                                       *m_threads.deadlines(l.thread));
        if (!proxy->listen()) {
            problem = proxy->errorString();
            proxy.reset();
            return proxy;
        }
        for (const auto &fault : l.config->faults)
            proxy->scheduleOutage(fault.at, fault.downFor);
        if (tap)
            proxy->setTap(tap);
        if (m_linkNote.isEmpty())
            m_linkNote = proxy->connectNote();
        return proxy;
    });
    if (m_links[link])
        return true;
    *error = QStringLiteral("link %1 could not listen: %2").arg(l.name, problem);
    return false;
}

bool LiveTopology::http3For(const TopologyPlan::Group &group) const
{
    const scenario::ClientGroup *config = m_v.clientGroup(group.name);
    return config && !config->realBrowser && m_v.protocolFor(*config) == scenario::Protocol::Http3;
}

// The access link of an HTTP/3 population: datagrams to the node's UDP port.
bool LiveTopology::startUdpLink(std::size_t link, QString *error)
{
    const TopologyPlan::Link &l = m_plan.links[link];
    ServerPart *server = m_servers[std::size_t(l.target)].get();
    if (!server || server->http3Port() == 0) {
        *error = QStringLiteral("link %1: %2 serves no HTTP/3 (protocol: http3 needs EdgeSSE's own servers)").arg(l.name, l.to);
        return false;
    }
    const quint16 targetPort = server->http3Port();
    QString problem;
    m_udpLinks[link] = OnThread<link::UdpLink>::make(m_threads, l.thread, [&] {
        auto udp = std::make_unique<link::UdpLink>(l.settings, QHostAddress::LocalHost, targetPort,
                                                   *m_threads.deadlines(l.thread));
        if (!udp->listen()) {
            problem = udp->errorString();
            udp.reset();
            return udp;
        }
        for (const auto &fault : l.config->faults)
            udp->scheduleOutage(fault.at, fault.downFor);
        return udp;
    });
    if (m_udpLinks[link]) {
        // Alt-Svc then names this link's UDP port to the clients that came through its TCP one.
        if (m_links[link])
            server->server()->advertiseHttp3Via(m_links[link]->port(), m_udpLinks[link]->port());
        return true;
    }
    *error = QStringLiteral("UDP link %1 could not listen: %2").arg(l.name, problem);
    return false;
}

bool LiveTopology::startPool(std::size_t node, quint16 upstreamPort, QString *error)
{
    const TopologyPlan::Node &n = m_plan.nodes[node];
    PoolSpec spec;
    spec.variant = &m_v;
    spec.node = n.config;
    spec.sse = &m_v.sse;
    spec.protocol = m_v.protocol;
    spec.serverTls = m_tls->server;
    spec.upstreamPort = upstreamPort;
    if (n.upstreamLink >= 0 && m_plan.links[std::size_t(n.upstreamLink)].config->tls)
        spec.upstreamTls = m_tls->client;
    spec.seed = n.seed;
    spec.timeScale = m_v.timeScale;
    QString problem;
    m_pools[node] = OnThread<routing::InstancePool>::make(m_threads, n.thread, [&] {
        auto pool = makeInstancePool(spec, *m_threads.deadlines(n.thread));
        if (!pool->start(&problem))
            pool.reset();
        return pool;
    });
    if (!m_pools[node]) {
        *error = QStringLiteral("node %1 could not start its instances: %2").arg(n.name, problem);
        return false;
    }
    m_ports[node] = m_pools[node]->port();
    return true;
}

bool LiveTopology::startNode(std::size_t node, quint16 upstreamPort, QString *error, const std::function<bool()> &cancelled)
{
    const TopologyPlan::Node &n = m_plan.nodes[node];
    if (n.config->routed())
        return startPool(node, upstreamPort, error);
    if (m_external && m_external->isExternal(n.name)) {
        m_ports[node] = m_external->start(n.name, upstreamPort, error, cancelled);
        return m_ports[node] != 0;
    }
    if (!startServer(node, error))
        return false;
    m_ports[node] = m_servers[node]->port();
    return true;
}

bool LiveTopology::bringUp(QString *error, const std::function<bool()> &cancelled)
{
    m_servers.resize(m_plan.nodes.size());
    m_pools.resize(m_plan.nodes.size());
    m_links.resize(m_plan.links.size());
    m_udpLinks.resize(m_plan.links.size());
    m_relays.resize(m_plan.nodes.size());
    m_ledgers.resize(m_plan.nodes.size());
    m_ports.assign(m_plan.nodes.size(), 0);
    // The origin first, so PoPs can subscribe through their links to it.
    if (!startNode(0, 0, error, cancelled))
        return false;
    const QByteArray originPath = m_external ? m_external->path(m_plan.nodes.front().name) : QByteArrayLiteral("/events");
    for (std::size_t i = 1; i < m_plan.nodes.size(); ++i) {
        const TopologyPlan::Node &n = m_plan.nodes[i];
        if (m_external && m_external->isExternal(n.name)) {
            // The user's PoP: its {upstream} is the link to the origin, which comes up first.
            if (!startLink(std::size_t(n.upstreamLink), error)
                || !startNode(i, m_links[std::size_t(n.upstreamLink)]->port(), error, cancelled))
                return false;
            continue;
        }
        if (n.config->routed()) {
            // Each instance subscribes through the PoP's upstream link, which comes up first.
            if (!startLink(std::size_t(n.upstreamLink), error)
                || !startPool(i, m_links[std::size_t(n.upstreamLink)]->port(), error))
                return false;
            continue;
        }
        if (!startNode(i, 0, error, cancelled) || !startLink(std::size_t(n.upstreamLink), error))
            return false;
        const quint16 upstreamPort = m_links[std::size_t(n.upstreamLink)]->port();
        ServerPart *server = m_servers[i].get();
        const bool upstreamTls = m_plan.links[std::size_t(n.upstreamLink)].config->tls;
        if (n.config->upstream != scenario::UpstreamMode::PerClient)
            m_ledgers[i] = std::make_unique<HopLedger>(m_links[std::size_t(n.upstreamLink)].get());
        m_relays[i] = OnThread<RelayPart>::make(m_threads, n.thread, [&] {
            return std::make_unique<RelayPart>(*n.config, m_v.protocol, server, upstreamPort,
                                               *m_threads.deadlines(n.thread), upstreamTls ? m_tls->client : nullptr,
                                               originPath, m_ledgers[i].get(), m_v.timeScale);
        });
    }
    m_switches.resize(m_plan.groups.size());
    for (std::size_t g = 0; g < m_plan.groups.size(); ++g) {
        const TopologyPlan::Group &group = m_plan.groups[g];
        if (!startLink(std::size_t(group.link), error))
            return false;
        if (http3For(group) && !startUdpLink(std::size_t(group.link), error))
            return false;
        for (const int l : group.fallbackLinks)
            if (!startLink(std::size_t(l), error))
                return false;
        if (!group.fallbackLinks.empty() && !startSwitch(g, error))
            return false;
    }
    placeErrorSources();
    return true;
}

// Each group's error is read from its access link and, behind a PoP, the PoP's ledger.
void LiveTopology::placeErrorSources()
{
    if (m_external)
        return; // the user's servers take their own time: no model to compare with
    for (std::size_t g = 0; g < m_plan.groups.size(); ++g) {
        const TopologyPlan::Group &group = m_plan.groups[g];
        GroupMetrics &metrics = *m_shared.groups[g];
        metrics.access = m_links[std::size_t(group.link)].get();
        const int node = m_plan.nodeIndex(group.node);
        metrics.behindPop = node > 0;
        if (node > 0)
            metrics.upstream = m_ledgers[std::size_t(node)].get();
    }
}

bool LiveTopology::startSwitch(std::size_t g, QString *error)
{
    const TopologyPlan::Group &group = m_plan.groups[g];
    std::vector<quint16> targets{m_links[std::size_t(group.link)]->port()};
    for (const int l : group.fallbackLinks)
        targets.push_back(m_links[std::size_t(l)]->port());
    std::vector<routing::FailoverSwitch::Change> changes;
    for (const auto &[at, target] : group.resolution)
        changes.push_back({at, target});
    const int thread = m_plan.links[std::size_t(group.link)].thread;
    QString problem;
    m_switches[g] = OnThread<routing::FailoverSwitch>::make(m_threads, thread, [&] {
        auto sw = std::make_unique<routing::FailoverSwitch>(targets, changes, *m_threads.deadlines(thread));
        if (!sw->listen(&problem))
            sw.reset();
        else
            sw->start();
        return sw;
    });
    if (m_switches[g])
        return true;
    *error = QStringLiteral("population %1: %2").arg(group.name, problem);
    return false;
}

quint16 LiveTopology::groupPort(std::size_t g) const
{
    if (g < m_switches.size() && m_switches[g])
        return m_switches[g]->port();
    return m_links[std::size_t(m_plan.groups[g].link)]->port();
}

int LiveTopology::relaysWithoutUpstream()
{
    int waiting = 0;
    for (const auto &relay : m_relays) {
        if (!relay)
            continue;
        int open = 0;
        m_threads.runOn(relay.thread(), [&] { open = relay->openUpstreams(); });
        waiting += open > 0 ? 0 : 1;
    }
    for (const auto &pool : m_pools) {
        if (!pool)
            continue;
        int open = 0;
        m_threads.runOn(pool.thread(), [&] { open = pool->instancesWithoutUpstream(); });
        waiting += open;
    }
    return waiting;
}

void LiveTopology::prepareClients()
{
    // An external origin publishes on its own (or through publisher.post), not from here.
    ServerPart *origin = m_servers.front().get();
    routing::InstancePool *originPool = m_pools.front().get(); // on the publisher's thread too
    if (origin || originPool) {
        m_publisher = OnThread<Publisher>::make(m_threads, m_plan.publisherThread, [&] {
            return std::make_unique<Publisher>(m_plan.publisher, payloadOfSize(m_v.publisher.payloadBytes), m_shared.log,
                                               *m_threads.deadlines(m_plan.publisherThread),
                                               [origin, originPool](const sse::PublishedEvent &event) {
                                                   if (originPool)
                                                       originPool->publish(event);
                                                   else
                                                       origin->publish(event);
                                               });
        });
    }
    for (int i = 0; i < m_plan.threadCount; ++i) {
        std::vector<ClientsPart::Browser> browsers = m_plan.browsers[std::size_t(i)];
        std::erase_if(browsers, [](const ClientsPart::Browser &b) { return b.config->realBrowser.has_value(); });
        for (auto &browser : browsers) {
            const TopologyPlan::Group &group = m_plan.groups[std::size_t(browser.group)];
            browser.port = groupPort(std::size_t(browser.group));
            if (m_external)
                browser.path = m_external->path(group.node);
            if (m_plan.links[std::size_t(group.link)].config->tls)
                browser.tls = m_tls->client;
            if (http3For(group)) {
                if (!browser.altSvcDiscovery)
                    browser.port = m_udpLinks[std::size_t(group.link)]->port();
                browser.quic = m_quicClient;
            }
        }
        m_clients.push_back(OnThread<ClientsPart>::make(m_threads, i, [&] {
            auto part = std::make_unique<ClientsPart>(*m_recorders[std::size_t(i)], *m_threads.deadlines(i));
            part->addBrowsers(browsers);
            return part;
        }));
    }
    prepareRealBrowsers();
}

void LiveTopology::prepareRealBrowsers()
{
    for (std::size_t g = 0; g < m_plan.groups.size(); ++g) {
        const scenario::ClientGroup *group = m_v.clientGroup(m_plan.groups[g].name);
        if (!group || !group->realBrowser)
            continue;
        const TopologyPlan::Group &plan = m_plan.groups[g];
        RealBrowserPart::Config config;
        config.group = int(g);
        config.config = group;
        config.node = plan.node;
        config.port = groupPort(g);
        config.https = m_plan.links[std::size_t(plan.link)].config->tls;
        if (m_external)
            config.path = m_external->path(plan.node);
        config.spki = m_tls->credentials.spkiSha256Base64;
        m_realBrowsers.push_back(OnThread<RealBrowserPart>::make(m_threads, 0, [&] {
            return std::make_unique<RealBrowserPart>(config, *m_recorders.front());
        }));
    }
}

void LiveTopology::startPublisher()
{
    if (m_publisher)
        m_threads.runOn(m_publisher.thread(), [this] { m_publisher->start(); });
    else if (m_external)
        m_external->startPublishing(m_plan.publisher);
}

void LiveTopology::stopPublisher()
{
    if (m_publisher)
        m_threads.runOn(m_publisher.thread(), [this] { m_publisher->stop(); });
    if (m_external)
        m_external->stopPublishing();
}

bool LiveTopology::openClients(QString *error)
{
    for (const auto &clients : m_clients) {
        ClientsPart *part = clients.get();
        m_threads.post(clients.thread(), [part] { part->open(); });
    }
    bool ok = true;
    QString problem;
    for (const auto &real : m_realBrowsers)
        m_threads.runOn(real.thread(), [&] { ok = ok && real->open(&problem); });
    if (!ok && error)
        *error = problem;
    return ok;
}

QList<Endpoint> LiveTopology::endpoints() const
{
    QList<Endpoint> endpoints;
    for (std::size_t i = 0; i < m_plan.nodes.size(); ++i) {
        const QString &name = m_plan.nodes[i].name;
        if (m_external && m_external->isExternal(name))
            endpoints.push_back({name, m_external->url(name), QUrl()});
        else
            endpoints.push_back({name, streamUrl(m_ports[i]), secureStreamUrl(m_ports[i])});
    }
    for (const auto &group : m_plan.groups) {
        const quint16 port = groupPort(std::size_t(&group - m_plan.groups.data()));
        QUrl url = streamUrl(port);
        QUrl secure = secureStreamUrl(port);
        if (m_external) {
            url.setPath(QString::fromUtf8(m_external->path(group.node)));
            secure = QUrl();
        }
        endpoints.push_back({group.name, url, secure});
    }
    return endpoints;
}

void LiveTopology::onEachThread(const std::function<void(int)> &fn)
{
    for (int i = 0; i < m_plan.threadCount; ++i)
        m_threads.runOn(i, [&fn, i] { fn(i); });
}

} // namespace edgesse::sim
