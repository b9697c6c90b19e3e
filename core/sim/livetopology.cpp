#include "core/sim/livetopology.h"

#include "core/net/deadlinequeue.h"

#include <QHostAddress>

namespace edgesse::sim {

LiveTopology::LiveTopology(const scenario::Variant &variant, const TopologyPlan &plan,
                           std::shared_ptr<const tls::TlsIdentity> tls)
    : m_v(variant)
    , m_plan(plan)
    , m_tls(std::move(tls))
    , m_shared(std::size_t(plan.threadCount))
    , m_threads(plan.threadCount)
{
    for (int i = 0; i < plan.threadCount; ++i)
        m_recorders.push_back(std::make_unique<StreamRecorder>(m_shared, std::size_t(i)));
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
        auto part = std::make_unique<ServerPart>(*n.config, m_v.sse, *m_threads.deadlines(n.thread), m_tls->server);
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
    const quint16 targetPort = m_servers[std::size_t(l.target)]->port();
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
        return proxy;
    });
    if (m_links[link])
        return true;
    *error = QStringLiteral("link %1 could not listen: %2").arg(l.name, problem);
    return false;
}

bool LiveTopology::bringUp(QString *error)
{
    m_servers.resize(m_plan.nodes.size());
    m_links.resize(m_plan.links.size());
    m_relays.resize(m_plan.nodes.size());
    // The origin first, so PoPs can subscribe through their links to it.
    if (!startServer(0, error))
        return false;
    for (std::size_t i = 1; i < m_plan.nodes.size(); ++i) {
        const TopologyPlan::Node &n = m_plan.nodes[i];
        if (!startServer(i, error) || !startLink(std::size_t(n.upstreamLink), error))
            return false;
        const quint16 upstreamPort = m_links[std::size_t(n.upstreamLink)]->port();
        ServerPart *server = m_servers[i].get();
        const bool upstreamTls = m_plan.links[std::size_t(n.upstreamLink)].config->tls;
        m_relays[i] = OnThread<RelayPart>::make(m_threads, n.thread, [&] {
            return std::make_unique<RelayPart>(*n.config, m_v.protocol, server, upstreamPort,
                                               *m_threads.deadlines(n.thread), upstreamTls ? m_tls->client : nullptr);
        });
    }
    for (const auto &group : m_plan.groups) {
        if (!startLink(std::size_t(group.link), error))
            return false;
    }
    return true;
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
    return waiting;
}

void LiveTopology::prepareClients()
{
    ServerPart *origin = m_servers.front().get();
    m_publisher = OnThread<Publisher>::make(m_threads, m_plan.publisherThread, [&] {
        return std::make_unique<Publisher>(m_plan.publisher, payloadOfSize(m_v.publisher.payloadBytes), m_shared.log,
                                           *m_threads.deadlines(m_plan.publisherThread),
                                           [origin](const sse::PublishedEvent &event) { origin->publish(event); });
    });
    for (int i = 0; i < m_plan.threadCount; ++i) {
        std::vector<ClientsPart::Browser> browsers = m_plan.browsers[std::size_t(i)];
        for (auto &browser : browsers) {
            const TopologyPlan::Link &access = m_plan.links[std::size_t(m_plan.groups[std::size_t(browser.group)].link)];
            browser.port = m_links[std::size_t(m_plan.groups[std::size_t(browser.group)].link)]->port();
            if (access.config->tls)
                browser.tls = m_tls->client;
        }
        m_clients.push_back(OnThread<ClientsPart>::make(m_threads, i, [&] {
            auto part = std::make_unique<ClientsPart>(*m_recorders[std::size_t(i)], *m_threads.deadlines(i));
            part->addBrowsers(browsers);
            return part;
        }));
    }
}

void LiveTopology::startPublisher()
{
    m_threads.runOn(m_publisher.thread(), [this] { m_publisher->start(); });
}

void LiveTopology::stopPublisher()
{
    m_threads.runOn(m_publisher.thread(), [this] { m_publisher->stop(); });
}

void LiveTopology::openClients()
{
    for (const auto &clients : m_clients) {
        ClientsPart *part = clients.get();
        m_threads.post(clients.thread(), [part] { part->open(); });
    }
}

QList<Endpoint> LiveTopology::endpoints() const
{
    QList<Endpoint> endpoints;
    for (std::size_t i = 0; i < m_plan.nodes.size(); ++i)
        endpoints.push_back({m_plan.nodes[i].name, streamUrl(m_servers[i]->port()), secureStreamUrl(m_servers[i]->port())});
    for (const auto &group : m_plan.groups) {
        const quint16 port = m_links[std::size_t(group.link)]->port();
        endpoints.push_back({group.name, streamUrl(port), secureStreamUrl(port)});
    }
    return endpoints;
}

void LiveTopology::onEachThread(const std::function<void(int)> &fn)
{
    for (int i = 0; i < m_plan.threadCount; ++i)
        m_threads.runOn(i, [&fn, i] { fn(i); });
}

} // namespace edgesse::sim
