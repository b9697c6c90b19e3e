#include "core/sim/topologyparts.h"

#include "core/sim/clientgroupconfig.h"
#include "core/sim/streamrecorder.h"
#include "core/sse/sseserver.h"

#include "core/net/deadlinequeue.h"
#include "core/sse/browser.h"
#include "core/sse/edgerelay.h"
#include "core/sse/poller.h"

#include <QThread>

#include <algorithm>
#include <cmath>

namespace edgesse::sim {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

QUrl streamUrl(quint16 port)
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/events").arg(port));
}

QUrl secureStreamUrl(quint16 port)
{
    return QUrl(QStringLiteral("https://127.0.0.1:%1/events").arg(port));
}

namespace {

http::ClientProtocol clientProtocol(scenario::Protocol protocol)
{
    switch (protocol) {
    case scenario::Protocol::Http3:
        return http::ClientProtocol::Http3;
    case scenario::Protocol::Http2:
        return http::ClientProtocol::Http2;
    case scenario::Protocol::Http1:
        break;
    }
    return http::ClientProtocol::Http1;
}

} // namespace

std::chrono::seconds rejectionRetryAfter(const scenario::SseSettings &sse)
{
    // Retry-After is whole seconds: the scenario's retry, rounded up, at least one.
    const auto retry = std::chrono::ceil<std::chrono::seconds>(sse.retry);
    return std::max(retry, std::chrono::seconds(1));
}

sse::ServerSettings serverSettings(const scenario::Node &node, const scenario::SseSettings &sse, double timeScale)
{
    sse::ServerSettings settings;
    settings.role = node.kind == scenario::NodeKind::Origin ? sse::ServerRole::Origin : sse::ServerRole::Edge;
    if (sse.heartbeat)
        settings.heartbeat = duration_cast<milliseconds>(*sse.heartbeat);
    settings.retry = duration_cast<milliseconds>(sse.retry);
    settings.replayCapacity = std::size_t(std::max(sse.replay, 0));
    if (node.maxStreamDuration)
        settings.maxStreamDuration = duration_cast<milliseconds>(*node.maxStreamDuration);
    settings.http.maxConcurrentStreams = quint32(std::max(sse.maxConcurrentStreams, 1));
    settings.http.maxConnections = node.maxConnections;
    settings.http.retryAfter = rejectionRetryAfter(sse);
    const auto stretched = [timeScale](milliseconds d) { return milliseconds(std::llround(double(d.count()) * timeScale)); };
    settings.http.requestTimeout = stretched(settings.http.requestTimeout);
    settings.http.headerTimeout = stretched(settings.http.headerTimeout);
    settings.http.idleTimeout = std::max(stretched(settings.http.idleTimeout), duration_cast<milliseconds>(2 * sse.retry));
    settings.lanes = node.kind == scenario::NodeKind::Pop && node.upstream == scenario::UpstreamMode::PerClient;
    return settings;
}

sse::ServerSettings serverSettings(const scenario::Variant &variant, const scenario::Node &node)
{
    sse::ServerSettings settings = serverSettings(node, variant.sse, variant.timeScale);
    std::optional<milliseconds> longest;
    for (const scenario::ClientGroup &group : variant.clients) {
        if (group.delivery == scenario::Delivery::LongPoll)
            longest = std::max(longest.value_or(milliseconds(0)), duration_cast<milliseconds>(group.longPollTimeout));
    }
    if (longest)
        settings.longPollTimeout = *longest;
    return settings;
}

ServerPart::ServerPart(sse::ServerSettings settings, std::shared_ptr<const tls::TlsContext> tls, QObject *parent,
                       std::shared_ptr<const quic::QuicTls> http3)
    : QObject(parent)
{
    settings.tls = std::move(tls);
    settings.http3 = std::move(http3);
    m_server = std::make_unique<sse::SseServer>(settings);
}

ServerPart::~ServerPart()
{
    if (m_server)
        m_server->stop();
}

bool ServerPart::listen(QString *error)
{
    if (m_server->start(QThread::currentThread()))
        return true;
    *error = m_server->errorString();
    return false;
}

quint16 ServerPart::port() const
{
    return m_server->port();
}

quint16 ServerPart::http3Port() const
{
    return m_server->http3Port();
}

sse::ServerStats ServerPart::stats() const
{
    return m_server->stats();
}

void ServerPart::publish(const sse::PublishedEvent &event)
{
    m_server->publish(event);
}

ClientsPart::ClientsPart(StreamRecorder &recorder, net::DeadlineQueue &deadlines, QObject *parent)
    : QObject(parent)
    , m_recorder(recorder)
    , m_deadlines(deadlines)
{
}

ClientsPart::~ClientsPart()
{
    m_closing = true;
    if (m_openTimer)
        m_deadlines.cancel(m_openTimer);
    for (const auto id : m_reopenTimers)
        m_deadlines.cancel(id);
    m_reopenTimers.clear();
    for (auto &browser : m_browsers)
        browser->close();
    for (auto &poller : m_pollers)
        poller->stop();
    m_browsers.clear();
    m_pollers.clear();
}

void ClientsPart::addBrowsers(const std::vector<Browser> &browsers)
{
    m_plan.insert(m_plan.end(), browsers.begin(), browsers.end());
    std::stable_sort(m_plan.begin(), m_plan.end(),
                     [](const Browser &a, const Browser &b) { return a.arriveAfter < b.arriveAfter; });
}

void ClientsPart::open()
{
    m_openedAt = std::chrono::steady_clock::now();
    openDue();
}

void ClientsPart::openDue()
{
    // Browsers that arrive together still open in small batches a few milliseconds apart, so
    // thousands of connects do not overflow the links' SYN and accept queues (a dropped SYN
    // costs a one-second retransmission).
    constexpr std::size_t kBatch = 100;
    constexpr auto kBatchGap = std::chrono::milliseconds(2);
    m_openTimer = 0;
    const auto elapsed = std::chrono::steady_clock::now() - m_openedAt;
    std::size_t batch = 0;
    for (; m_opened < m_plan.size() && batch < kBatch && m_plan[m_opened].arriveAfter <= elapsed; ++m_opened, ++batch)
        openBrowser(m_plan[m_opened]);
    if (m_opened < m_plan.size()) {
        const auto wait = batch == kBatch ? std::chrono::nanoseconds(kBatchGap)
                                          : std::chrono::nanoseconds(m_plan[m_opened].arriveAfter - elapsed);
        m_openTimer = m_deadlines.scheduleAfter(wait, [this] { openDue(); });
        return;
    }
    m_plan.clear();
    m_plan.shrink_to_fit();
    m_opened = 0;
}

void ClientsPart::openBrowser(const Browser &plan)
{
    sse::StreamObserver *observer = this;
    const scenario::ClientGroup &group = *plan.config;
    std::uint64_t firstTag = 0;
    for (int s = 0; s < group.streams; ++s) {
        const std::uint64_t tag = m_recorder.addStream(plan.group, plan.index, s, plan.node);
        if (s == 0)
            firstTag = tag;
    }
    if (group.delivery != scenario::Delivery::Sse) {
        for (int s = 0; s < group.streams; ++s) {
            sse::Poller::Config config;
            config.port = plan.port;
            config.protocol = clientProtocol(plan.protocol);
            config.longPoll = group.delivery == scenario::Delivery::LongPoll;
            config.interval = duration_cast<milliseconds>(group.pollInterval);
            config.tls = plan.tls;
            auto poller = std::make_unique<sse::Poller>(config, m_deadlines, observer, firstTag + std::uint64_t(s));
            poller->start();
            m_pollers.push_back(std::move(poller));
        }
        return;
    }
    sse::Browser::Config config;
    config.port = plan.port;
    config.protocol = plan.altSvcDiscovery ? http::ClientProtocol::Http2 : clientProtocol(plan.protocol);
    config.altSvcDiscovery = plan.altSvcDiscovery;
    config.streams = group.streams;
    applyClientGroup(group, config); // the profile's default retry: the node's `retry:` replaces it
    config.stream.path = plan.path;
    if (!plan.clientId.isEmpty())
        config.stream.extraHeaders.push_back({"Cookie", QByteArray("edgesse-client=") + plan.clientId});
    config.stream.seed = plan.seed;
    config.stream.idleReapHint = duration_cast<milliseconds>(plan.idleReapHint);
    config.stream.maxDurationHint = duration_cast<milliseconds>(plan.maxDurationHint);
    config.firstStreamTag = firstTag;
    config.tls = plan.tls;
    config.quic = plan.quic;
    // Its own loopback source address: the access link gives each browser its own line.
    config.localAddress = QHostAddress(0x7F000000u | ((1u + static_cast<quint32>(plan.group) % 254u) << 16)
                                       | (1u + static_cast<quint32>(plan.index) % 65534u));
    auto browser = std::make_unique<sse::Browser>(config, m_deadlines, observer);
    if (m_owners.size() < firstTag + std::uint64_t(group.streams))
        m_owners.resize(firstTag + std::uint64_t(group.streams));
    for (int s = 0; s < group.streams; ++s)
        m_owners[firstTag + std::uint64_t(s)] = {browser.get(), s, plan.rejectionRetry};
    browser->open();
    m_browsers.push_back(std::move(browser));
}

// Forwarded as they are, except a 503 (the node is at its connection cap): the page opens
// a new EventSource once the server's Retry-After has passed — what a site does when its
// EventSource fails with readyState CLOSED — and the recorder counts a reconnect.
void ClientsPart::streamDisconnected(std::uint64_t stream, const sse::Disconnect &disconnect)
{
    if (m_closing || disconnect.willReconnect || disconnect.cause != sse::DisconnectCause::Non200 ||
        disconnect.httpStatus != 503 || stream >= m_owners.size() || !m_owners[stream].browser) {
        m_recorder.streamDisconnected(stream, disconnect);
        return;
    }
    const Owner owner = m_owners[stream];
    sse::Disconnect retried = disconnect;
    retried.willReconnect = true;
    retried.reconnectDelay = duration_cast<milliseconds>(owner.retryAfter);
    m_recorder.streamDisconnected(stream, retried);
    auto id = std::make_shared<net::DeadlineQueue::Id>(0);
    *id = m_deadlines.scheduleAfter(owner.retryAfter, [this, owner, id] {
        m_reopenTimers.erase(*id);
        owner.browser->stream(owner.index).open();
    });
    m_reopenTimers.insert(*id);
}

RelayPart::RelayPart(const scenario::Node &pop, scenario::Protocol protocol, ServerPart *server, quint16 upstreamPort,
                     net::DeadlineQueue &deadlines, std::shared_ptr<const tls::TlsContext> upstreamTls,
                     const QByteArray &upstreamPath, sse::StreamObserver *upstreamObserver, double timeScale,
                     QObject *parent)
    : QObject(parent)
{
    sse::EdgeRelay::Config config;
    config.path = upstreamPath;
    config.upstreamPort = upstreamPort;
    config.protocol = protocol == scenario::Protocol::Http3 ? http::ClientProtocol::Http2 : clientProtocol(protocol);
    config.perClient = pop.upstream == scenario::UpstreamMode::PerClient;
    config.tls = std::move(upstreamTls);
    config.retry = milliseconds(std::llround(double(config.retry.count()) * timeScale));
    config.followInterval = milliseconds(std::llround(double(config.followInterval.count()) * timeScale));
    m_relay = std::make_unique<sse::EdgeRelay>(config, server->server(), deadlines, upstreamObserver);
    m_relay->start();
}

RelayPart::~RelayPart()
{
    m_relay->stop();
}

int RelayPart::openUpstreams() const
{
    return m_relay->openUpstreams();
}

} // namespace edgesse::sim
