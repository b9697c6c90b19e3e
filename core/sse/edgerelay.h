#pragma once

#include "core/http/httpclient.h"
#include "core/sse/eventsource.h"
#include "core/sse/streamobserver.h"
#include "core/tls/tlscontext.h"

#include <QString>

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace edgesse::sse {

class SseServer;

// A PoP's feed: EventSource subscription(s) to the origin whose events are re-published
// into the PoP's SseServer (edge role) with their original sequence numbers and ids, so
// latency and exactly-once accounting at the clients stay end to end. Upstream streams
// reconnect with Last-Event-ID like any EventSource, so the origin's replay buffer fills
// the gap of an upstream outage and the edge's own replay buffer keeps the original ids.
//
// Shared mode: one upstream stream for the PoP. Per-client mode: as many upstream streams
// as the edge server has open client streams (at least one; with ServerSettings::lanes, as
// many as its lanes in use), re-counted every `followInterval`. Upstream k is lane k: with
// lanes, each client stream gets its own upstream copy of every event (publishCopy), so its
// latency is that copy's path, not the fastest of N copies; without lanes each event is
// published once — the first copy to arrive. Copies after the first are counted as
// duplicates either way.
//
// Lives on the thread of `timers`; the server may serve on any thread (publish() is
// thread-safe).
class EdgeRelay final : private StreamObserver
{
public:
    struct Config {
        QString upstreamHost = QStringLiteral("127.0.0.1");
        quint16 upstreamPort = 0;
        http::ClientProtocol protocol = http::ClientProtocol::Http1;
        bool perClient = false;
        QByteArray path = "/events";
        std::chrono::milliseconds retry{1000};       // until the origin sends `retry`
        std::chrono::milliseconds followInterval{100}; // per-client: how often to re-count
        int maxUpstreams = 20'000;
        std::uint64_t seed = 1;
        std::shared_ptr<const tls::TlsContext> tls; // HTTPS upstream; null for cleartext
    };

    // `upstreamObserver` (optional) hears the upstream streams, tagged 0, 1, 2, ...
    EdgeRelay(Config config, SseServer *server, net::DeadlineQueue &timers, StreamObserver *upstreamObserver = nullptr);
    ~EdgeRelay() override;
    EdgeRelay(const EdgeRelay &) = delete;
    EdgeRelay &operator=(const EdgeRelay &) = delete;

    void start();
    void stop();

    int upstreamCount() const { return static_cast<int>(m_upstreams.size()); }
    int openUpstreams() const;
    std::uint64_t eventsRelayed() const { return m_relayed; }
    std::uint64_t duplicatesDropped() const { return m_duplicates; }
    std::uint64_t lastRelayedSeq() const { return m_lastSeq; }

private:
    void addUpstream();
    void follow();

    // StreamObserver (upstream streams)
    void eventReceived(std::uint64_t stream, const ReceivedEvent &event) override;
    void streamStarved(std::uint64_t stream, Clock::time_point since) override;
    void streamConnected(std::uint64_t stream, const ConnectInfo &info) override;
    void streamOpened(std::uint64_t stream, std::chrono::microseconds ttfb) override;
    void firstEventReceived(std::uint64_t stream, std::chrono::microseconds t) override;
    void commentReceived(std::uint64_t stream, std::size_t bytes) override;
    void bytesReceived(std::uint64_t stream, std::size_t bytes) override;
    void streamDisconnected(std::uint64_t stream, const Disconnect &d) override;

    Config m_config;
    SseServer *m_server;
    net::DeadlineQueue &m_timers;
    StreamObserver *m_upstreamObserver;
    std::unique_ptr<http::ConnectionPool> m_pool;
    std::vector<std::unique_ptr<EventSource>> m_upstreams;
    std::uint64_t m_timer = 0;
    std::uint64_t m_lastSeq = 0;
    std::uint64_t m_relayed = 0;
    std::uint64_t m_duplicates = 0;
    bool m_anySeq = false;
    bool m_running = false;
};

} // namespace edgesse::sse
