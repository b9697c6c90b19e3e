#include "core/sse/edgerelay.h"

#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/sseserver.h"

#include <algorithm>

namespace edgesse::sse {

EdgeRelay::EdgeRelay(Config config, SseServer *server, net::DeadlineQueue &timers, StreamObserver *upstreamObserver)
    : m_config(std::move(config))
    , m_server(server)
    , m_timers(timers)
    , m_upstreamObserver(upstreamObserver)
{
    http::ConnectionPool::Config pc;
    pc.host = m_config.upstreamHost;
    pc.port = m_config.upstreamPort;
    pc.protocol = m_config.protocol;
    // Server to server: no browser limit on HTTP/1.1 connections.
    pc.maxConnections = m_config.perClient ? std::max(1, m_config.maxUpstreams) : 1;
    m_pool = std::make_unique<http::ConnectionPool>(pc);
    m_pool->setTls(m_config.tls);
}

EdgeRelay::~EdgeRelay()
{
    stop();
    m_upstreams.clear(); // before the pool they use
}

void EdgeRelay::start()
{
    if (m_running)
        return;
    m_running = true;
    addUpstream();
    if (m_config.perClient)
        m_timer = m_timers.scheduleAfter(m_config.followInterval, [this] { follow(); });
}

void EdgeRelay::stop()
{
    m_running = false;
    if (m_timer) {
        m_timers.cancel(m_timer);
        m_timer = 0;
    }
    for (auto &u : m_upstreams)
        u->close();
}

int EdgeRelay::openUpstreams() const
{
    return static_cast<int>(std::count_if(m_upstreams.begin(), m_upstreams.end(), [](const auto &u) {
        return u->readyState() == EventSource::ReadyState::Open;
    }));
}

void EdgeRelay::addUpstream()
{
    EventSourceConfig c;
    c.path = m_config.path;
    c.defaultRetry = m_config.retry;
    c.seed = m_config.seed;
    // A new upstream joins where the relay is, not at the origin's newest event.
    if (m_anySeq)
        c.lastEventId = QByteArray::number(static_cast<qulonglong>(m_lastSeq));
    const auto tag = static_cast<std::uint64_t>(m_upstreams.size());
    m_upstreams.push_back(std::make_unique<EventSource>(c, *m_pool, m_timers, static_cast<StreamObserver *>(this), tag));
    m_upstreams.back()->open();
}

void EdgeRelay::follow()
{
    m_timer = 0;
    if (!m_running)
        return;
    const sse::ServerStats stats = m_server->stats();
    const qint64 wanted = m_server->settings().lanes ? stats.lanesInUse : stats.streamsOpen;
    const auto clients = static_cast<int>(std::clamp<qint64>(wanted, 1, m_config.maxUpstreams));
    while (static_cast<int>(m_upstreams.size()) < clients)
        addUpstream();
    while (static_cast<int>(m_upstreams.size()) > clients)
        m_upstreams.pop_back(); // closes it (the destructor cancels its request)
    m_timer = m_timers.scheduleAfter(m_config.followInterval, [this] { follow(); });
}

void EdgeRelay::eventReceived(std::uint64_t stream, const ReceivedEvent &event)
{
    if (m_upstreamObserver)
        m_upstreamObserver->eventReceived(stream, event);
    bool first = true;
    if (event.seq) {
        first = !m_anySeq || *event.seq > m_lastSeq;
        if (first) {
            m_anySeq = true;
            m_lastSeq = *event.seq;
        } else {
            ++m_duplicates;
        }
    } else if (stream != 0) {
        return; // without a sequence number only the first upstream's copy is relayed
    }
    if (!first && !m_config.perClient)
        return;
    PublishedEvent published;
    published.seq = event.seq.value_or(0);
    // The wire carries no publish time; the edge stamps its receipt. Client latency is
    // measured against the origin's publish log by sequence number, not against this.
    published.publishedAt = event.receivedAt;
    published.event = event.event;
    if (m_config.perClient)
        m_server->publishCopy(published, static_cast<std::uint32_t>(stream), first);
    else
        m_server->publish(published);
    if (first)
        ++m_relayed;
}

void EdgeRelay::streamStarved(std::uint64_t s, Clock::time_point since)
{
    if (m_upstreamObserver)
        m_upstreamObserver->streamStarved(s, since);
}
void EdgeRelay::streamConnected(std::uint64_t s, const ConnectInfo &info)
{
    if (m_upstreamObserver)
        m_upstreamObserver->streamConnected(s, info);
}
void EdgeRelay::streamOpened(std::uint64_t s, std::chrono::microseconds ttfb)
{
    if (m_upstreamObserver)
        m_upstreamObserver->streamOpened(s, ttfb);
}
void EdgeRelay::firstEventReceived(std::uint64_t s, std::chrono::microseconds t)
{
    if (m_upstreamObserver)
        m_upstreamObserver->firstEventReceived(s, t);
}
void EdgeRelay::commentReceived(std::uint64_t s, std::size_t bytes)
{
    if (m_upstreamObserver)
        m_upstreamObserver->commentReceived(s, bytes);
}
void EdgeRelay::bytesReceived(std::uint64_t s, std::size_t bytes)
{
    if (m_upstreamObserver)
        m_upstreamObserver->bytesReceived(s, bytes);
}
void EdgeRelay::streamDisconnected(std::uint64_t s, const Disconnect &d)
{
    if (m_upstreamObserver)
        m_upstreamObserver->streamDisconnected(s, d);
}

} // namespace edgesse::sse
