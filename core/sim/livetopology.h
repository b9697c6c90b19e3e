#pragma once

#include "core/link/linkproxy.h"
#include "core/link/udplink.h"
#include "core/quic/quictls.h"
#include "core/net/netthreads.h"
#include "core/scenario/scenario.h"
#include "core/sim/endpoint.h"
#include "core/sim/externalstack.h"
#include "core/sim/hopledger.h"
#include "core/sim/onthread.h"
#include "core/sim/publisher.h"
#include "core/sim/realbrowserpart.h"
#include "core/routing/failoverswitch.h"
#include "core/routing/instancepool.h"
#include "core/sim/streamrecorder.h"
#include "core/sim/topologyparts.h"
#include "core/sim/topologyplan.h"
#include "core/sse/sseserver.h"
#include "core/tls/tlsidentity.h"

#include <QList>
#include <QString>

#include <memory>
#include <vector>

namespace edgesse::sim {

// A TopologyPlan brought up for real: servers, links, relays, the publisher and the
// browsers, each on the worker thread the plan gave it and owned there. Destroying it is
// the orderly stop: clients first (so nothing reconnects into a closing topology), then the
// publisher, the relays, the links and the servers, each deleted on its own thread, then
// every thread joined; the recorders and the shared figures go last.
// Contract: driven from one controlling thread (never a worker); the variant and the plan
// outlive it.
class LiveTopology final
{
    Q_DISABLE_COPY_MOVE(LiveTopology)

public:
    // `tls`: what every node serves HTTPS with and clients on tls links trust.
    // `externalFolder`: where the variant's external servers get their folders (see ExternalStack).
    LiveTopology(const scenario::Variant &variant, const TopologyPlan &plan,
                 std::shared_ptr<const tls::TlsIdentity> tls, const QString &externalFolder = {});
    ~LiveTopology();

    // Servers (the origin first), links and PoP relays; false with `error` set on failure.
    // An external server's start is abandoned when `cancelled` returns true.
    bool bringUp(QString *error, const std::function<bool()> &cancelled = {});
    // PoPs whose relay has no upstream stream open yet.
    int relaysWithoutUpstream();
    // The publisher (stopped) and the browsers (not yet open).
    void prepareClients();
    void startPublisher();
    void stopPublisher();
    // Returns at once; each thread opens its browsers in batches. Real browsers are launched
    // here (false with `error` when one cannot start).
    bool openClients(QString *error = nullptr);

    QList<Endpoint> endpoints() const;
    // The first link's note on what it could not make real here (LinkProxy::connectNote()).
    QString linkNote() const { return m_linkNote; }
    RunShared &shared() { return m_shared; }
    const std::vector<std::unique_ptr<StreamRecorder>> &recorders() const { return m_recorders; }
    // A population's access link that carries HTTP/3 counts its datagrams (UdpLink).
    link::Counters linkCounters(std::size_t link) const
    {
        return link < m_udpLinks.size() && m_udpLinks[link] ? m_udpLinks[link]->snapshot() : m_links[link]->snapshot();
    }
    // A TCP link's first failed TLS handshake, why (LinkProxy::firstTlsFailure()); empty when none.
    QString linkTlsFailure(std::size_t link) const
    {
        return link < m_links.size() && m_links[link] ? m_links[link]->firstTlsFailure() : QString();
    }
    // Bytes the links still hold (queued for their release times), all links together.
    std::uint64_t linkBytesHeld() const
    {
        std::uint64_t held = 0;
        for (const auto &l : m_links)
            held += l->snapshot().bufferedBytes;
        for (const auto &l : m_udpLinks)
            held += l ? l->snapshot().bufferedBytes : 0;
        return held;
    }
    // An external node has no server of EdgeSSE's: nothing counted (zeros).
    sse::ServerStats serverStats(std::size_t node) const
    {
        if (node < m_pools.size() && m_pools[node])
            return m_pools[node]->stats();
        return m_servers[node] ? m_servers[node]->stats() : sse::ServerStats();
    }
    // A routed node's instances and balancer (core/routing); null for a plain node.
    const routing::InstancePool *pool(std::size_t node) const { return node < m_pools.size() ? m_pools[node].get() : nullptr; }
    // Any thread: how often the publisher fell behind its schedule.
    std::uint64_t publisherFellBehind() const { return m_publisher ? m_publisher->timesFellBehind() : 0; }
    // Runs `fn(i)` on every worker thread i in turn, waiting for each.
    void onEachThread(const std::function<void(int)> &fn);
    // The user's own servers; null when the variant has none.
    ExternalStack *external() const { return m_external.get(); }

private:
    bool startNode(std::size_t node, quint16 upstreamPort, QString *error, const std::function<bool()> &cancelled);
    bool startServer(std::size_t node, QString *error);
    bool startLink(std::size_t link, QString *error);
    bool startUdpLink(std::size_t link, QString *error);
    bool http3For(const TopologyPlan::Group &group) const;
    void placeErrorSources();
    bool startPool(std::size_t node, quint16 upstreamPort, QString *error);
    bool startSwitch(std::size_t group, QString *error);
    // Where a population's browsers connect: its failover switch, or its access link.
    quint16 groupPort(std::size_t group) const;
    void prepareRealBrowsers();

    const scenario::Variant &m_v;
    const TopologyPlan &m_plan;
    std::shared_ptr<const tls::TlsIdentity> m_tls;
    RunShared m_shared;
    std::vector<std::unique_ptr<StreamRecorder>> m_recorders; // one a thread
    net::NetThreads m_threads;
    std::unique_ptr<ExternalStack> m_external; // stopped after the links that tap it are gone
    std::vector<quint16> m_ports;              // by plan node: where its server listens
    QString m_linkNote;
    // Declared in reverse order of tear-down.
    std::vector<std::unique_ptr<HopLedger>> m_ledgers; // by plan node: a shared-upstream PoP's
    std::vector<OnThread<ServerPart>> m_servers; // by plan node
    std::vector<OnThread<routing::InstancePool>> m_pools; // by plan node, empty unless routed
    std::vector<OnThread<link::LinkProxy>> m_links; // by plan link
    std::vector<OnThread<link::UdpLink>> m_udpLinks; // by plan link: access links of http3 populations
    std::shared_ptr<const quic::QuicTls> m_quicServer; // the run's certificate, for HTTP/3
    std::shared_ptr<const quic::QuicTls> m_quicClient;
    std::vector<OnThread<routing::FailoverSwitch>> m_switches; // by plan group, empty without fallback
    std::vector<OnThread<RelayPart>> m_relays;  // by plan node, empty for the origin
    OnThread<Publisher> m_publisher;
    std::vector<OnThread<ClientsPart>> m_clients; // by thread
    std::vector<OnThread<RealBrowserPart>> m_realBrowsers; // real_browser populations, stopped first
};

} // namespace edgesse::sim
