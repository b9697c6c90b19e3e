#include "core/sim/topologyparts.h"

#include "core/sim/streamrecorder.h"
#include "core/sse/sseserver.h"

// The client side (browsers, pollers, edge relays) is a separate part of core/sse; a run
// that needs a part this build lacks is refused up front by missingPart().
#if __has_include("core/sse/browser.h")
#include "core/sse/browser.h"
#define EDGESSE_HAVE_BROWSER 1
#endif
#if __has_include("core/sse/poller.h")
#include "core/sse/poller.h"
#define EDGESSE_HAVE_POLLER 1
#endif
#if __has_include("core/sse/edgerelay.h")
#include "core/sse/edgerelay.h"
#define EDGESSE_HAVE_EDGE_RELAY 1
#endif

#include <QThread>

#include <algorithm>

namespace edgesse::sim {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

QUrl streamUrl(quint16 port)
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/events").arg(port));
}

QString missingPart(const scenario::Variant &variant, bool simulatedClients)
{
    bool sse = false, poll = false;
    for (const auto &group : variant.clients) {
        if (simulatedClients)
            (group.delivery == scenario::Delivery::Sse ? sse : poll) = true;
    }
#ifndef EDGESSE_HAVE_BROWSER
    if (sse)
        return QStringLiteral("this build has no browser client (core/sse/browser.h)");
#endif
#ifndef EDGESSE_HAVE_POLLER
    if (poll)
        return QStringLiteral("this build has no polling client (core/sse/poller.h)");
#endif
#ifndef EDGESSE_HAVE_EDGE_RELAY
    if (variant.placement == scenario::Placement::Edge)
        return QStringLiteral("this build has no edge relay (core/sse/edgerelay.h)");
#endif
    (void)sse;
    (void)poll;
    return {};
}

#if defined(EDGESSE_HAVE_BROWSER) || defined(EDGESSE_HAVE_POLLER) || defined(EDGESSE_HAVE_EDGE_RELAY)
namespace {

http::ClientProtocol clientProtocol(scenario::Protocol protocol)
{
    return protocol == scenario::Protocol::Http2 ? http::ClientProtocol::Http2 : http::ClientProtocol::Http1;
}

} // namespace
#endif

ServerPart::ServerPart(const scenario::Node &node, const scenario::SseSettings &sse, net::DeadlineQueue &,
                       QObject *parent)
    : QObject(parent)
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
    // A simulated stream may stay silent longer than a real server's keep-alive default.
    settings.http.idleTimeout = std::chrono::hours(24);
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
#ifdef EDGESSE_HAVE_BROWSER
    for (auto &browser : m_browsers)
        browser->close();
#endif
    m_browsers.clear();
    m_pollers.clear();
}

void ClientsPart::addBrowsers(const std::vector<Browser> &browsers)
{
    m_plan.insert(m_plan.end(), browsers.begin(), browsers.end());
}

void ClientsPart::open()
{
    for (const Browser &plan : m_plan) {
        const scenario::ClientGroup &group = *plan.config;
        [[maybe_unused]] std::uint64_t firstTag = 0;
        for (int s = 0; s < group.streams; ++s) {
            const std::uint64_t tag = m_recorder.addStream(plan.group, plan.index, s, plan.node);
            if (s == 0)
                firstTag = tag;
        }
        if (group.delivery == scenario::Delivery::Sse) {
#ifdef EDGESSE_HAVE_BROWSER
            sse::Browser::Config config;
            config.port = plan.port;
            config.protocol = clientProtocol(plan.protocol);
            config.streams = group.streams;
            config.maxConnectionsPerOrigin = group.connectionsPerOrigin;
            config.stream.defaultRetry = duration_cast<milliseconds>(plan.retry);
            config.stream.seed = plan.seed;
            config.stream.idleReapHint = duration_cast<milliseconds>(plan.idleReapHint);
            config.stream.maxDurationHint = duration_cast<milliseconds>(plan.maxDurationHint);
            config.firstStreamTag = firstTag;
            auto browser = std::make_shared<sse::Browser>(config, m_deadlines, &m_recorder);
            browser->open();
            m_browsers.push_back(std::move(browser));
#endif
        } else {
#ifdef EDGESSE_HAVE_POLLER
            for (int s = 0; s < group.streams; ++s) {
                sse::Poller::Config config;
                config.port = plan.port;
                config.protocol = clientProtocol(plan.protocol);
                config.longPoll = group.delivery == scenario::Delivery::LongPoll;
                config.interval = duration_cast<milliseconds>(group.pollInterval);
                auto poller = std::make_shared<sse::Poller>(config, m_deadlines, &m_recorder, firstTag + std::uint64_t(s));
                poller->start();
                m_pollers.push_back(std::move(poller));
            }
#endif
        }
    }
    m_plan.clear();
}

RelayPart::RelayPart([[maybe_unused]] const scenario::Node &pop, [[maybe_unused]] scenario::Protocol protocol,
                     [[maybe_unused]] ServerPart *server, [[maybe_unused]] quint16 upstreamPort,
                     [[maybe_unused]] net::DeadlineQueue &deadlines, QObject *parent)
    : QObject(parent)
{
#ifdef EDGESSE_HAVE_EDGE_RELAY
    sse::EdgeRelay::Config config;
    config.upstreamPort = upstreamPort;
    config.protocol = clientProtocol(protocol);
    config.perClient = pop.upstream == scenario::UpstreamMode::PerClient;
    m_relay = std::make_shared<sse::EdgeRelay>(config, server->server(), deadlines);
    m_relay->start();
#endif
}

RelayPart::~RelayPart() = default;

} // namespace edgesse::sim
