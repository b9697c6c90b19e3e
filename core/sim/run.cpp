#include "core/sim/run.h"

#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/net/fdlimit.h"
#include "core/net/netthreads.h"
#include "core/sim/cost.h"
#include "core/sim/publisher.h"
#include "core/sim/streamrecorder.h"
#include "core/sim/topologyparts.h"

#include <QHostAddress>
#include <QScopeGuard>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>

namespace edgesse::sim {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kSampleInterval = 100ms;

double seconds(Clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

// How far above its path's configured latency the scenario itself can put an event: the
// jitter bound of every link on the path (the link proxy draws Pareto delays up to 10× the
// jitter) and, where loss touches more than 1% of events, the loss-recovery delay. The
// worst push path of the variant; overhead beyond it is the machine's.
double overheadAllowanceMs(const scenario::Variant &v)
{
    constexpr double kParetoBound = 10.0;
    constexpr double kLossReachesP99 = 0.01;
    double worst = 0;
    for (const scenario::ClientGroup &group : v.clients) {
        if (group.delivery != scenario::Delivery::Sse)
            continue;
        double allowance = 0;
        for (const scenario::Link *l : v.pathLinks(group)) {
            const double jitterMs = std::chrono::duration<double, std::milli>(l->jitter).count();
            allowance += l->jitterDistribution == scenario::JitterDistribution::Pareto ? kParetoBound * jitterMs : jitterMs;
            if (l->loss >= kLossReachesP99)
                allowance += std::chrono::duration<double, std::milli>(l->lossPenalty()).count();
        }
        worst = std::max(worst, allowance);
    }
    return worst;
}

link::LinkSettings linkSettings(const scenario::Link &l, std::uint64_t seed)
{
    link::LinkSettings s;
    s.latency = l.latency;
    s.jitter = l.jitter;
    switch (l.jitterDistribution) {
    case scenario::JitterDistribution::Uniform: s.distribution = link::JitterDistribution::Uniform; break;
    case scenario::JitterDistribution::Normal: s.distribution = link::JitterDistribution::Normal; break;
    case scenario::JitterDistribution::Pareto: s.distribution = link::JitterDistribution::Pareto; break;
    }
    s.seed = seed;
    s.bandwidthBitsPerSecond = std::uint64_t(std::max<qint64>(l.bandwidthBitsPerSecond, 0));
    s.lossProbability = l.loss;
    s.lossRecovery = l.lossRecovery == scenario::LossRecovery::Timeout ? link::LossRecovery::Timeout
                                                                       : link::LossRecovery::FastRetransmit;
    // Real TLS crosses the link (its handshake round trips are real), so the link does not
    // add the emulated one too.
    s.tls = false;
    if (l.gateway) {
        s.idleTimeout = l.gateway->idleTimeout;
        s.maxDuration = l.gateway->maxDuration;
    }
    return s;
}

PublishSettings publishSettings(const scenario::Publisher &p, std::uint64_t seed)
{
    PublishSettings s;
    switch (p.pattern) {
    case scenario::PublishPattern::Constant: s.pattern = PublishPattern::Constant; break;
    case scenario::PublishPattern::Poisson: s.pattern = PublishPattern::Poisson; break;
    case scenario::PublishPattern::Bursty: s.pattern = PublishPattern::Bursty; break;
    }
    s.eventsPerSecond = p.rate;
    s.burstSize = std::max(p.burstSize, 1);
    s.seed = seed;
    return s;
}

// Seeds derived from the variant's seed, one per purpose, so adding a link does not
// change the publisher's schedule.
std::uint64_t derivedSeed(std::uint64_t seed, std::uint64_t purpose)
{
    std::uint64_t z = seed + 0x9E3779B97F4A7C15ull * (purpose + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

} // namespace

// Everything one variant brings up. Objects live on the worker threads; this struct only
// holds pointers to them and the plan that decided where they go.
struct Run::Topology {
    struct LinkInUse {
        QString name; // "from->to"
        QString from; // client population or node (the side that connects)
        QString to;   // the node the link leads to
        const scenario::Link *config = nullptr;
        int thread = 0;
        link::LinkProxy *proxy = nullptr;
        bool clientSide = false; // carries a population's streams
        int group = -1;
        std::uint64_t lastBytes = 0;
    };
    struct NodeUp {
        QString name;
        bool origin = false;
        int thread = 0;
        ServerPart *server = nullptr;
        RelayPart *relay = nullptr;
        quint16 port = 0;
        std::uint64_t maxConnections = 0; // the most seen open at once
    };

    explicit Topology(int threadCount) : threads(threadCount), shared(std::size_t(threads.count())) {}

    net::NetThreads threads;
    RunShared shared;
    std::vector<std::unique_ptr<StreamRecorder>> recorders; // one a thread, deleted after the threads stop
    std::vector<NodeUp> nodes;
    std::vector<LinkInUse> links;
    std::vector<ClientsPart *> clients; // one a thread
    Publisher *publisher = nullptr;     // on the origin's thread
    int publisherThread = 0;
    std::uint64_t lastPublishedSample = 0;
    std::uint64_t lastReconnects = 0;
    std::uint64_t lastDelivered = 0;
    metrics::LatencyHistogram lastLatency;
    metrics::TimeSeries series;

    NodeUp *node(const QString &name)
    {
        for (auto &n : nodes) {
            if (n.name == name)
                return &n;
        }
        return nullptr;
    }
};

Run::Run(scenario::Variant variant, const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_variant(std::move(variant))
    , m_settings(settings)
{
    m_live.variant = m_variant.name;
    m_result.name = m_variant.name;
    m_tls = tls::TlsIdentity::make(m_settings.tlsCredentials.get(), &m_tlsError);
}

Run::~Run()
{
    cancel();
    wait();
}

void Run::start()
{
    if (m_conductor.joinable())
        return;
    m_conductor = std::thread([this] { execute(); });
}

void Run::stop()
{
    m_stopRequested = true;
    std::lock_guard lock(m_waitMutex);
    m_wake.notify_all();
}

void Run::cancel()
{
    m_cancelRequested = true;
    std::lock_guard lock(m_waitMutex);
    m_wake.notify_all();
}

void Run::wait()
{
    if (m_conductor.joinable())
        m_conductor.join();
}

QList<Endpoint> Run::endpoints() const
{
    std::lock_guard lock(m_mutex);
    return m_endpoints;
}

LiveSnapshot Run::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_live;
}

Run::Timings Run::timings() const
{
    std::lock_guard lock(m_mutex);
    return m_timings;
}

metrics::VariantResult Run::result() const
{
    std::lock_guard lock(m_mutex);
    return m_result;
}

bool Run::waitFor(Clock::time_point until)
{
    std::unique_lock lock(m_waitMutex);
    m_wake.wait_until(lock, until, [this] { return m_cancelRequested.load() || m_stopRequested.load(); });
    return !m_cancelRequested && !m_stopRequested;
}

void Run::execute()
{
    const scenario::Variant &v = m_variant;
    if (!m_tls) {
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, m_tlsError));
        return;
    }

    // 1. Descriptors: refuse to start what cannot fit, with the number needed.
    net::raiseFdLimitToHard();
    if (const QString problem = net::checkDescriptorBudget(v.descriptorsNeeded()); !problem.isEmpty()) {
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, problem));
        return;
    }

    const auto setUpStart = Clock::now();
    auto topology = std::make_unique<Topology>(m_settings.threads);
    Topology &t = *topology;
    const int threadCount = t.threads.count();
    for (int i = 0; i < threadCount; ++i)
        t.recorders.push_back(std::make_unique<StreamRecorder>(t.shared, std::size_t(i)));

    QString setupError;
    auto tearDown = [&] {
        const auto tearDownStart = Clock::now();
        const auto recordTime = qScopeGuard([&] {
            std::lock_guard lock(m_mutex);
            m_timings.tearDown = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - tearDownStart);
        });
        // Clients first (so nothing reconnects into a closing topology), then the publisher,
        // the relays, the links and the servers, each deleted on its own thread while that
        // thread's deadline queue still exists; NetThreads::stop() then joins every thread.
        auto onEachThread = [&](const std::function<void(int)> &phase) {
            for (int i = 0; i < threadCount; ++i)
                t.threads.runOn(i, [&, i] { phase(i); });
        };
        onEachThread([&](int i) {
            if (t.clients.size() > std::size_t(i)) {
                delete t.clients[std::size_t(i)];
                t.clients[std::size_t(i)] = nullptr;
            }
            if (t.publisher && i == t.publisherThread) {
                delete t.publisher;
                t.publisher = nullptr;
            }
        });
        onEachThread([&](int i) {
            for (auto &up : t.nodes) {
                if (up.thread == i && up.relay) {
                    delete up.relay;
                    up.relay = nullptr;
                }
            }
        });
        onEachThread([&](int i) {
            for (auto &l : t.links) {
                if (l.thread == i && l.proxy) {
                    delete l.proxy;
                    l.proxy = nullptr;
                }
            }
        });
        onEachThread([&](int i) {
            for (auto &up : t.nodes) {
                if (up.thread == i && up.server) {
                    delete up.server;
                    up.server = nullptr;
                }
            }
        });
        t.threads.stop();
    };

    // 2. Bring the topology up: origin, PoPs (edge placement), links, clients.
    std::uint64_t purpose = 0;
    // The origin serves from thread 0; PoPs and links take the threads round-robin from the
    // next one, so that an origin and the link in front of it do not share a thread.
    int nextThread = 1;
    auto pickThread = [&] { return nextThread++ % threadCount; };
    const scenario::Node *origin = v.origin();
    if (!origin) {
        emit failed(QStringLiteral("variant %1: the publisher is not attached to an origin node").arg(v.name));
        tearDown();
        return;
    }

    // The nodes the groups' paths go through.
    std::vector<QString> nodesInUse{origin->name};
    for (const auto &group : v.clients) {
        const QStringList path = v.path(group);
        for (int i = 1; i < path.size(); ++i) {
            if (std::find(nodesInUse.begin(), nodesInUse.end(), path[i]) == nodesInUse.end())
                nodesInUse.push_back(path[i]);
        }
    }

    auto addLink = [&](const QString &from, const QString &to, int group) -> Topology::LinkInUse * {
        const scenario::Link *config = v.linkBetween(from, to);
        if (!config) {
            setupError = QStringLiteral("no link between %1 and %2").arg(from, to);
            return nullptr;
        }
        const Topology::NodeUp *target = t.node(to);
        Topology::LinkInUse l;
        l.name = from + QStringLiteral("->") + to;
        l.from = from;
        l.to = to;
        l.config = config;
        l.group = group;
        l.clientSide = group >= 0;
        l.thread = pickThread();
        const link::LinkSettings settings = linkSettings(*config, derivedSeed(v.seed, 1000 + purpose++));
        QString error;
        l.proxy = t.threads.create<link::LinkProxy>(l.thread, [&]() -> link::LinkProxy * {
            auto *proxy = new link::LinkProxy(settings, QHostAddress::LocalHost, target->port,
                                              *t.threads.deadlines(l.thread));
            if (!proxy->listen()) {
                error = proxy->errorString();
                delete proxy;
                return nullptr;
            }
            for (const auto &fault : config->faults)
                proxy->scheduleOutage(fault.at, fault.downFor);
            return proxy;
        });
        if (!l.proxy) {
            setupError = QStringLiteral("link %1 could not listen: %2").arg(l.name, error);
            return nullptr;
        }
        t.links.push_back(l);
        return &t.links.back();
    };

    // Servers, origin first so PoPs can subscribe through their links to it.
    t.links.reserve(std::size_t(v.clients.size() + v.nodes.size()) + 1);
    for (const QString &name : nodesInUse) {
        const scenario::Node *config = v.node(name);
        Topology::NodeUp up;
        up.name = name;
        up.origin = config == origin;
        up.thread = up.origin ? 0 : pickThread();
        t.nodes.push_back(up);
    }
    // Brings up the node's server on its thread; on failure returns null and sets `error`.
    auto startServer = [&](Topology::NodeUp &up, QString *error) -> ServerPart * {
        const scenario::Node *config = v.node(up.name);
        return t.threads.create<ServerPart>(up.thread, [&]() -> ServerPart * {
            auto *part = new ServerPart(*config, v.sse, *t.threads.deadlines(up.thread), m_tls->server);
            if (!part->listen(error)) {
                delete part;
                return nullptr;
            }
            return part;
        });
    };
    for (auto &up : t.nodes) {
        if (!up.origin)
            continue;
        QString error;
        up.server = startServer(up, &error);
        if (!up.server)
            setupError = QStringLiteral("the origin %1 could not listen: %2").arg(up.name, error);
        else
            up.port = up.server->port();
    }
    for (auto &up : t.nodes) {
        if (!setupError.isEmpty() || up.origin)
            continue;
        const scenario::Node *config = v.node(up.name);
        QString error;
        up.server = startServer(up, &error);
        if (!up.server) {
            setupError = QStringLiteral("PoP %1 could not listen: %2").arg(up.name, error);
            break;
        }
        up.port = up.server->port();
        Topology::LinkInUse *upstream = addLink(up.name, origin->name, -1);
        if (!upstream)
            break;
        const quint16 upstreamPort = upstream->proxy->port();
        const auto protocol = v.protocol;
        const scenario::Link *upstreamLink = v.linkBetween(up.name, origin->name);
        const auto upstreamTls = upstreamLink && upstreamLink->tls ? m_tls->client : nullptr;
        up.relay = t.threads.create<RelayPart>(up.thread, [&]() -> RelayPart * {
            return new RelayPart(*config, protocol, up.server, upstreamPort, *t.threads.deadlines(up.thread), upstreamTls);
        });
    }

    // One link per population, towards the node its streams connect to.
    std::vector<quint16> groupPorts(std::size_t(v.clients.size()), 0);
    std::vector<QString> groupNodes(std::size_t(v.clients.size()));
    for (int g = 0; setupError.isEmpty() && g < v.clients.size(); ++g) {
        const auto &group = v.clients[g];
        const QStringList path = v.path(group);
        if (path.size() < 2) {
            setupError = QStringLiteral("client population %1 has no path to the origin").arg(group.name);
            break;
        }
        Topology::LinkInUse *l = addLink(group.name, path[1], g);
        if (!l)
            break;
        groupPorts[std::size_t(g)] = l->proxy->port();
        groupNodes[std::size_t(g)] = path[1];
        t.shared.groups.push_back(std::make_unique<GroupMetrics>(
            group.name, v.pathLatency(group), group.delivery == scenario::Delivery::Sse, std::size_t(threadCount)));
    }

    if (!setupError.isEmpty()) {
        tearDown();
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, setupError));
        return;
    }
    // PoPs subscribe to the origin before their audience arrives, as a PoP in service has:
    // wait (bounded) until every relay has an upstream stream open.
    {
        std::chrono::microseconds slowestUpstream{0};
        for (const auto &l : t.links) {
            if (!l.clientSide)
                slowestUpstream = std::max(slowestUpstream, l.config->handshake() + l.config->latency);
        }
        const auto until = Clock::now() + std::max<Clock::duration>(2s, 10 * slowestUpstream);
        for (;;) {
            bool allOpen = true;
            for (const auto &up : t.nodes) {
                if (!up.relay)
                    continue;
                int open = 0;
                t.threads.runOn(up.thread, [&] { open = up.relay->openUpstreams(); });
                allOpen = allOpen && open > 0;
            }
            if (allOpen || m_cancelRequested || Clock::now() >= until)
                break;
            std::unique_lock lock(m_waitMutex);
            m_wake.wait_for(lock, 10ms, [this] { return m_cancelRequested.load(); });
        }
    }

    if (m_cancelRequested) { // cancelled while the servers and links came up
        tearDown();
        emit cancelled();
        return;
    }

    {
        QList<Endpoint> endpoints;
        for (const auto &up : t.nodes)
            endpoints.push_back({up.name, streamUrl(up.port), secureStreamUrl(up.port)});
        for (int g = 0; g < v.clients.size(); ++g) {
            const quint16 port = groupPorts[std::size_t(g)];
            endpoints.push_back({v.clients[g].name, streamUrl(port), secureStreamUrl(port)});
        }
        std::lock_guard lock(m_mutex);
        m_endpoints = endpoints;
    }

    // Time series channels, fixed before the first row.
    using metrics::Fold;
    namespace series = metrics::series;
    t.series.addChannel(series::kLatencyP50, QStringLiteral("ms"), Fold::Mean);
    t.series.addChannel(series::kLatencyP90, QStringLiteral("ms"), Fold::Mean);
    t.series.addChannel(series::kLatencyP99, QStringLiteral("ms"), Fold::Max);
    t.series.addChannel(series::kLatencyMax, QStringLiteral("ms"), Fold::Max);
    t.series.addChannel(series::kEventsPerSecond, QStringLiteral("1/s"), Fold::Mean);
    t.series.addChannel(series::kPublishedPerSecond, QStringLiteral("1/s"), Fold::Mean);
    t.series.addChannel(series::kStreamsOpen, {}, Fold::Last);
    t.series.addChannel(series::kReconnects, {}, Fold::Sum);
    for (const auto &up : t.nodes)
        t.series.addChannel(series::connections(up.name), {}, Fold::Max);
    for (const auto &l : t.links)
        t.series.addChannel(series::linkBytesPerSecond(l.name), QStringLiteral("B/s"), Fold::Mean);

    // 3. The publisher, on the origin's thread, publishing from the start so streams see
    //    events as soon as they subscribe; only events after warm-up are measured.
    {
        const Topology::NodeUp *originUp = t.node(origin->name);
        t.publisherThread = originUp->thread;
        ServerPart *server = originUp->server;
        t.threads.runOn(t.publisherThread, [&] {
            t.publisher = new Publisher(publishSettings(v.publisher, derivedSeed(v.seed, 1)),
                                        payloadOfSize(v.publisher.payloadBytes), t.shared.log,
                                        *t.threads.deadlines(t.publisherThread),
                                        [server](const sse::PublishedEvent &event) { server->publish(event); });
        });
    }

    // 4. Clients: browsers spread round-robin over the threads.
    t.clients.assign(std::size_t(threadCount), nullptr);
    for (int i = 0; i < threadCount; ++i) {
        t.clients[std::size_t(i)] = t.threads.create<ClientsPart>(i, [&, i] {
            return new ClientsPart(*t.recorders[std::size_t(i)], *t.threads.deadlines(i));
        });
    }
    {
        std::vector<std::vector<ClientsPart::Browser>> perThread{std::size_t(threadCount)};
        int next = 0;
        for (int g = 0; g < v.clients.size(); ++g) {
            const auto &group = v.clients[g];
            for (qint64 b = 0; m_settings.simulatedClients && b < group.count; ++b) {
                ClientsPart::Browser browser;
                browser.group = g;
                browser.index = int(b);
                browser.config = &group;
                browser.protocol = v.protocolFor(group);
                browser.port = groupPorts[std::size_t(g)];
                browser.node = groupNodes[std::size_t(g)];
                browser.retry = v.sse.retry;
                browser.rejectionRetry = rejectionRetryAfter(v.sse);
                // Lets a stream name why its connection ended (idle reap, max duration).
                const scenario::Link *access = v.linkBetween(group.name, groupNodes[std::size_t(g)]);
                if (access && access->tls)
                    browser.tls = m_tls->client;
                if (const scenario::Link *l = access; l && l->gateway) {
                    browser.idleReapHint = l->gateway->idleTimeout.value_or(std::chrono::microseconds(0));
                    browser.maxDurationHint = l->gateway->maxDuration.value_or(std::chrono::microseconds(0));
                }
                if (const scenario::Node *n = v.node(groupNodes[std::size_t(g)]); n && n->maxStreamDuration) {
                    const auto serverLimit = *n->maxStreamDuration;
                    if (browser.maxDurationHint == std::chrono::microseconds(0) || serverLimit < browser.maxDurationHint)
                        browser.maxDurationHint = serverLimit;
                }
                browser.seed = derivedSeed(v.seed, 100000 + std::uint64_t(g) * 1000003 + std::uint64_t(b));
                perThread[std::size_t(next++ % threadCount)].push_back(browser);
            }
        }
        for (int i = 0; i < threadCount; ++i) {
            ClientsPart *part = t.clients[std::size_t(i)];
            auto browsers = std::move(perThread[std::size_t(i)]);
            t.threads.runOn(i, [&] { part->addBrowsers(browsers); });
        }
    }

    const auto start = Clock::now();
    {
        std::lock_guard lock(m_mutex);
        m_timings.setUp = std::chrono::duration_cast<std::chrono::microseconds>(start - setUpStart);
    }
    const auto measureStart = start + v.warmup;
    const auto measureEnd = measureStart + v.duration;
    const bool hasEnd = !m_settings.openEnded || v.duration > 0us;
    t.threads.runOn(t.publisherThread, [&] { t.publisher->start(); });
    for (int i = 0; i < threadCount; ++i) {
        ClientsPart *part = t.clients[std::size_t(i)];
        t.threads.post(i, [part] { part->open(); });
    }
    emit ready();

    // 5. Warm-up, then the measured period, sampling every 100 ms.
    bool measuring = false;
    auto nextSample = start + kSampleInterval;
    bool interrupted = false;
    for (;;) {
        const auto now = Clock::now();
        if (!measuring && now >= measureStart) {
            measuring = true;
            t.shared.measureFromSeq = t.shared.log.published() + 1;
            t.lastLatency = t.shared.allLatency.snapshot();
        }
        if (hasEnd && now >= measureEnd)
            break;
        if (!waitFor(std::min(nextSample, hasEnd ? measureEnd : Clock::time_point::max()))) {
            interrupted = true;
            break;
        }
        if (Clock::now() >= nextSample) {
            sample(t, seconds(nextSample - measureStart));
            nextSample += kSampleInterval;
            const double total = seconds(v.warmup + v.duration);
            const double fraction = hasEnd && total > 0 ? std::clamp(seconds(Clock::now() - start) / total, 0.0, 1.0) : 0.0;
            {
                std::lock_guard lock(m_mutex);
                m_live.fraction = fraction;
                m_live.elapsedSeconds = seconds(Clock::now() - start);
            }
            emit progressed(fraction);
        }
    }

    if (m_cancelRequested) {
        tearDown();
        emit cancelled();
        return;
    }
    if (!measuring) {
        // Stopped during warm-up: measure from now on, for what is left.
        t.shared.measureFromSeq = t.shared.log.published() + 1;
    }
    const auto end = interrupted ? Clock::now() : measureEnd;

    // 6. Stop publishing, let the last events cross the slowest path, collect, tear down.
    t.threads.runOn(t.publisherThread, [&] { t.publisher->stop(); });
    std::chrono::microseconds slowest{0};
    for (const auto &group : v.clients)
        slowest = std::max(slowest, v.pathLatency(group));
    // The drain: at least 3 × the slowest path (a poller's interval more when there are
    // pollers), then on while events still arrive — the last events take a while to fan
    // out to thousands of streams — and while streams that were cut are coming back
    // (reconnect delay, handshakes, Last-Event-ID replay), so a run that ends during either
    // does not count those events as lost. Bounded by about one retry and a second more.
    Clock::duration drain = std::max<Clock::duration>(200ms, 3 * slowest + 100ms);
    for (const auto &group : v.clients) {
        if (group.delivery == scenario::Delivery::Poll)
            drain = std::max<Clock::duration>(drain, group.pollInterval + 2 * v.pathLatency(group) + 100ms);
    }
    const auto drainCap = Clock::now() + drain + v.sse.retry * 13 / 10 + 4 * slowest + 1s;
    auto reconnecting = [&] {
        std::int64_t n = 0;
        for (const auto &r : t.recorders)
            n += r->live().streamsReconnecting.load(std::memory_order_relaxed);
        return n;
    };
    auto delivered = [&] {
        std::uint64_t n = 0;
        for (const auto &r : t.recorders)
            n += r->live().delivered.load(std::memory_order_relaxed);
        return n;
    };
    auto drainUntil = Clock::now() + drain;
    std::uint64_t seen = delivered();
    bool wasReconnecting = false;
    for (;;) {
        {
            std::unique_lock lock(m_waitMutex);
            m_wake.wait_until(lock, std::min(drainUntil, drainCap), [this] { return m_cancelRequested.load(); });
        }
        const auto now = Clock::now();
        if (m_cancelRequested || now >= drainCap)
            break;
        if (reconnecting() > 0) {
            wasReconnecting = true;
            drainUntil = now + 20ms;
            continue;
        }
        if (wasReconnecting) { // back: give the replay its path
            wasReconnecting = false;
            drainUntil = now + drain;
            seen = delivered();
            continue;
        }
        const std::uint64_t d = delivered();
        if (d == seen)
            break; // nothing arrived since the last look
        seen = d;
        drainUntil = now + 50ms;
    }
    if (m_cancelRequested) {
        tearDown();
        emit cancelled();
        return;
    }
    sample(t, seconds(Clock::now() - measureStart));
    {
        std::uint64_t everOpened = 0;
        Clock::rep last = 0;
        for (const auto &r : t.recorders) {
            everOpened += r->live().streamsEverOpened.load(std::memory_order_relaxed);
            last = std::max(last, r->live().lastFirstOpen.load(std::memory_order_relaxed));
        }
        if (m_settings.simulatedClients && everOpened == std::uint64_t(v.totalStreams()) && everOpened > 0) {
            std::lock_guard lock(m_mutex);
            m_timings.allOpen = std::chrono::duration_cast<std::chrono::microseconds>(
                Clock::time_point(Clock::duration(last)) - setUpStart);
        }
    }
    finalise(t, measuring ? measureStart : start, end);
    tearDown();
    emit finished();
}

void Run::sample(Topology &t, double atSeconds)
{
    namespace series = metrics::series;
    std::vector<double> row = t.series.emptyRow();
    auto set = [&](const QString &channel, double value) {
        const int index = t.series.channelIndex(channel);
        if (index >= 0)
            row[std::size_t(index)] = value;
    };
    const double perSecond = 1.0 / seconds(kSampleInterval);

    const metrics::LatencyHistogram latency = t.shared.allLatency.snapshot();
    const metrics::LatencyHistogram window = latency.since(t.lastLatency);
    t.lastLatency = latency;
    if (!window.isEmpty()) {
        set(series::kLatencyP50, window.percentileMs(50));
        set(series::kLatencyP90, window.percentileMs(90));
        set(series::kLatencyP99, window.percentileMs(99));
        set(series::kLatencyMax, window.percentileMs(100));
    }
    std::uint64_t delivered = 0, reconnects = 0;
    std::int64_t open = 0, starved = 0;
    for (const auto &r : t.recorders) {
        delivered += r->live().delivered.load(std::memory_order_relaxed);
        reconnects += r->live().reconnects.load(std::memory_order_relaxed);
        open += r->live().streamsOpen.load(std::memory_order_relaxed);
        starved += r->live().streamsStarved.load(std::memory_order_relaxed);
    }
    const std::uint64_t published = t.shared.log.published();
    set(series::kEventsPerSecond, double(delivered - t.lastDelivered) * perSecond);
    set(series::kPublishedPerSecond, double(published - t.lastPublishedSample) * perSecond);
    set(series::kStreamsOpen, double(open));
    set(series::kReconnects, double(reconnects - t.lastReconnects));
    t.lastDelivered = delivered;
    t.lastPublishedSample = published;
    t.lastReconnects = reconnects;

    LiveSnapshot live;
    live.variant = m_variant.name;
    live.valid = true;
    live.published = published;
    live.delivered = delivered;
    live.reconnects = reconnects;
    live.streamsOpen = std::uint64_t(std::max<std::int64_t>(open, 0));
    live.streamsStarved = std::uint64_t(std::max<std::int64_t>(starved, 0));

    // Connections at a node = connections open on the links leading to it.
    std::map<QString, std::uint64_t> byNode;
    for (auto &l : t.links) {
        const link::Counters c = l.proxy->snapshot();
        byNode[l.to] += c.connectionsOpen;
        const std::uint64_t bytes = c.upstream.bytes + c.downstream.bytes;
        const double rate = double(bytes - l.lastBytes) * perSecond;
        l.lastBytes = bytes;
        set(series::linkBytesPerSecond(l.name), rate);
        LiveSnapshot::LinkLoad load;
        load.name = l.name;
        load.from = l.from;
        load.to = l.to;
        load.bytesPerSecondDown = rate; // refined below
        load.bytesDown = c.downstream.bytes;
        load.bytesUp = c.upstream.bytes;
        load.connectionsOpen = c.connectionsOpen;
        for (auto reaped : c.reaps)
            load.reaps += reaped;
        live.links.push_back(load);
    }
    for (auto &up : t.nodes) {
        const std::uint64_t connections = byNode[up.name];
        up.maxConnections = std::max(up.maxConnections, connections);
        set(series::connections(up.name), double(connections));
        live.nodes.push_back({up.name, std::int64_t(connections), {}});
    }
    t.series.append(row);

    // The live view: latency and connections over time from the series so far.
    const int p50 = t.series.channelIndex(series::kLatencyP50);
    const int p99 = t.series.channelIndex(series::kLatencyP99);
    const int max = t.series.channelIndex(series::kLatencyMax);
    const int eps = t.series.channelIndex(series::kEventsPerSecond);
    const std::vector<double> times = t.series.viewTimes();
    const std::vector<double> p50s = t.series.viewValues(p50), p99s = t.series.viewValues(p99),
                              maxes = t.series.viewValues(max), rates = t.series.viewValues(eps);
    const double offset = atSeconds - (times.empty() ? 0.0 : times.back());
    for (std::size_t i = 0; i < times.size(); ++i)
        live.latency.push_back({times[i] + offset, p50s[i], p99s[i], maxes[i], rates[i]});
    for (auto &node : live.nodes) {
        const int c = t.series.channelIndex(series::connections(node.name));
        const std::vector<double> values = t.series.viewValues(c);
        for (std::size_t i = 0; i < times.size(); ++i) {
            if (!std::isnan(values[i]))
                node.overTime.emplace_back(times[i] + offset, std::int64_t(values[i]));
        }
    }

    std::lock_guard lock(m_mutex);
    live.fraction = m_live.fraction;
    live.elapsedSeconds = m_live.elapsedSeconds;
    m_live = std::move(live);
    m_result.timeSeries = t.series;
    m_result.setLatency(latency);
}

void Run::finalise(Topology &t, Clock::time_point measureStart, Clock::time_point measureEnd)
{
    const scenario::Variant &v = m_variant;
    const int threadCount = t.threads.count();
    const std::uint64_t lastSeq = t.shared.log.published();
    const std::uint64_t firstSeq = std::min(t.shared.measureFromSeq.load(), lastSeq + 1);

    std::vector<StreamRecorder::GroupTotals> totals(std::size_t(v.clients.size()));
    std::vector<metrics::StreamSummary> rows;
    for (int i = 0; i < threadCount; ++i) {
        t.threads.runOn(i, [&, i] {
            t.recorders[std::size_t(i)]->collect(lastSeq, measureEnd, totals, m_settings.keepStreamRows ? &rows : nullptr);
        });
    }

    metrics::VariantResult r;
    r.name = v.name;
    r.resolved = scenario::toJson(v);
    r.durationS = seconds(measureEnd - measureStart);
    r.events.published = lastSeq >= firstSeq ? lastSeq - firstSeq + 1 : 0;

    metrics::LatencyHistogram all, overhead, ttfe;
    Usage usage;
    usage.runSeconds = r.durationS;
    for (int g = 0; g < v.clients.size(); ++g) {
        const GroupMetrics &gm = *t.shared.groups[std::size_t(g)];
        const StreamRecorder::GroupTotals &gt = totals[std::size_t(g)];
        metrics::GroupResult group;
        group.name = gm.name;
        const metrics::LatencyHistogram latency = gm.latency.snapshot();
        const metrics::LatencyHistogram firstEvent = gm.timeToFirstEvent.snapshot();
        group.latency = metrics::LatencySummary::from(latency);
        group.timeToFirstEvent = metrics::PercentileSummary::from(firstEvent);
        group.events.published = r.events.published;
        group.events.add(gt.account);
        group.streams.add(gt.account);
        group.streams.total = gt.streams;
        group.streams.starved = gt.starved;
        r.events.add(gt.account);
        r.streams.add(gt.account);
        r.streams.total += gt.streams;
        r.streams.starved += gt.starved;
        r.requests += gt.requests;
        r.bytes.heartbeat += gt.heartbeatBytes;
        all.merge(latency);
        ttfe.merge(firstEvent);
        overhead.merge(gm.overhead.snapshot());
        usage.requests += gt.requests;
        usage.egressBytes += gt.bytes;
        usage.connectionSeconds += gt.connectionSeconds;
        usage.executionSeconds += gt.connectionSeconds;
        r.groups.push_back(std::move(group));
    }
    r.setLatency(all);
    r.overhead = metrics::PercentileSummary::from(overhead);
    r.overheadAllowanceMs = overheadAllowanceMs(v);
    r.timeToFirstEvent = metrics::PercentileSummary::from(ttfe);

    for (const auto &l : t.links) {
        const link::Counters c = l.proxy->snapshot();
        metrics::LinkResult lr;
        lr.name = l.name;
        lr.from = l.from;
        lr.to = l.to;
        lr.bytesDown = c.downstream.bytes;
        lr.bytesUp = c.upstream.bytes;
        lr.connections = c.connectionsTotal;
        lr.reaps = c.reaped(link::ReapCause::IdleTimeout) + c.reaped(link::ReapCause::MaxDuration);
        if (l.clientSide)
            lr.heartbeatBytes = totals[std::size_t(l.group)].heartbeatBytes;
        r.bytes.total += lr.totalBytes();
        r.links.push_back(lr);
    }
    for (const auto &up : t.nodes) {
        r.connections.byNodeMax[up.name] = up.maxConnections;
        if (up.origin)
            r.connections.originMax = up.maxConnections;
    }
    if (v.pricing)
        r.cost = estimateCost(*v.pricing, usage);
    r.timeSeries = t.series;
    r.streamSummaries = std::move(rows);
    r.checkOverhead();

    std::lock_guard lock(m_mutex);
    m_result = std::move(r);
}

} // namespace edgesse::sim
