#pragma once

#include "core/scenario/scenario.h"
#include "core/sim/streamrecorder.h"
#include "core/sse/sseevent.h"
#include "core/tls/tlscontext.h"
#include "core/sse/sseserver.h"
#include "core/sse/streamobserver.h"

#include <QObject>
#include <QString>
#include <QUrl>

#include <chrono>
#include <memory>
#include <unordered_set>
#include <vector>

namespace edgesse::net {
class DeadlineQueue;
}
namespace edgesse::sse {
class SseServer;
struct ServerSettings;
class EdgeRelay;
class Browser;
class Poller;
} // namespace edgesse::sse

namespace edgesse::sim {

// The Retry-After a node at its connection cap sends with its 503, and which its
// simulated clients honour before opening a new stream.
std::chrono::seconds rejectionRetryAfter(const scenario::SseSettings &sse);

// The URL of the event stream a server (or a link in front of it) serves on `port`.
QUrl streamUrl(quint16 port);
QUrl secureStreamUrl(quint16 port);

// A node's SSE server settings from the scenario. The server's own timeouts keep their
// defaults (http::ServerLimits), × `timeScale` in a dilated run, except that a keep-alive
// connection may idle for twice the scenario's retry when that is longer, so a browser
// reconnecting after `retry` finds it. A long poll is held for the longest long_poll_timeout
// of the variant's long-polling groups (the server's default without one).
sse::ServerSettings serverSettings(const scenario::Node &node, const scenario::SseSettings &sse, double timeScale = 1);
sse::ServerSettings serverSettings(const scenario::Variant &variant, const scenario::Node &node);

// A node's SSE server configured from the scenario: the origin (the publisher feeds it) or
// a PoP (its relay feeds it). Lives on one worker thread.
class ServerPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerPart)

public:
    // `tls`: the certificate the node serves HTTPS with, beside cleartext on the same port;
    // `http3`: the same certificate for HTTP/3 on a UDP port beside it (none when null).
    ServerPart(sse::ServerSettings settings, std::shared_ptr<const tls::TlsContext> tls, QObject *parent = nullptr,
               std::shared_ptr<const quic::QuicTls> http3 = nullptr);
    ~ServerPart() override;

    bool listen(QString *error);
    quint16 port() const;
    quint16 http3Port() const; // 0 without HTTP/3
    void publish(const sse::PublishedEvent &event);
    sse::SseServer *server() const { return m_server.get(); }
    sse::ServerStats stats() const; // any thread

private:
    std::unique_ptr<sse::SseServer> m_server;
};

// A PoP's subscription to the origin (through its link) feeding the PoP's server: one
// shared upstream, or one per client stream.
class RelayPart final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RelayPart)

public:
    // `upstreamTls`: HTTPS to the origin (a tls link); null for cleartext. `upstreamObserver`
    // (optional) hears the upstream streams (EdgeRelay). `timeScale`: the relay's re-count
    // and first retry stretch with a dilated run.
    RelayPart(const scenario::Node &pop, scenario::Protocol protocol, ServerPart *server, quint16 upstreamPort,
              net::DeadlineQueue &deadlines, std::shared_ptr<const tls::TlsContext> upstreamTls,
              const QByteArray &upstreamPath = QByteArrayLiteral("/events"),
              sse::StreamObserver *upstreamObserver = nullptr, double timeScale = 1, QObject *parent = nullptr);
    ~RelayPart() override;

    // Upstream streams open to the origin (call on the relay's thread).
    int openUpstreams() const;

private:
    std::unique_ptr<sse::EdgeRelay> m_relay;
};

// The browsers (or pollers) of one worker thread, reporting to that thread's recorder.
class ClientsPart final : public QObject, private sse::StreamObserver
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientsPart)

public:
    struct Browser {
        int group = 0;
        int index = 0;
        const scenario::ClientGroup *config = nullptr;
        scenario::Protocol protocol = scenario::Protocol::Http1;
        // protocol http3 found by Alt-Svc: HTTP/2 to `port` first (ConnectionPool's discovery).
        bool altSvcDiscovery = false;
        quint16 port = 0;
        QString node;
        QByteArray path = QByteArrayLiteral("/events"); // the node's event stream
        std::chrono::microseconds retry{0};
        std::chrono::microseconds idleReapHint{0};   // the gateway of the population's link
        std::chrono::microseconds maxDurationHint{0};
        std::uint64_t seed = 0;
        std::chrono::seconds rejectionRetry{1}; // the node's Retry-After on a 503
        std::shared_ptr<const tls::TlsContext> tls; // HTTPS on a tls link
        std::shared_ptr<const quic::QuicTls> quic;  // protocol http3: what QUIC trusts
        std::chrono::microseconds arriveAfter{0}; // after open()
        // Sent as the `edgesse-client` cookie (a site's session cookie) where a balancer
        // may route by it; empty: no cookie.
        QByteArray clientId;
    };

    ClientsPart(StreamRecorder &recorder, net::DeadlineQueue &deadlines, QObject *parent = nullptr);
    ~ClientsPart() override; // closes every stream

    void addBrowsers(const std::vector<Browser> &browsers);
    // Opens each browser of the plan at its arrival time, counted from now.
    void open();

private:
    void openDue();
    void openBrowser(const Browser &plan);

    // sse::StreamObserver: everything goes to the recorder; a 503 also schedules a new try.
    void streamStarved(std::uint64_t stream, sse::Clock::time_point since) override
    {
        m_recorder.streamStarved(stream, since);
    }
    void streamConnected(std::uint64_t stream, const sse::ConnectInfo &info) override
    {
        m_recorder.streamConnected(stream, info);
    }
    void streamOpened(std::uint64_t stream, std::chrono::microseconds timeToFirstByte) override
    {
        m_recorder.streamOpened(stream, timeToFirstByte);
    }
    void firstEventReceived(std::uint64_t stream, std::chrono::microseconds timeToFirstEvent) override
    {
        m_recorder.firstEventReceived(stream, timeToFirstEvent);
    }
    void eventReceived(std::uint64_t stream, const sse::ReceivedEvent &event) override
    {
        m_recorder.eventReceived(stream, event);
    }
    void commentReceived(std::uint64_t stream, std::size_t bytes) override { m_recorder.commentReceived(stream, bytes); }
    void bytesReceived(std::uint64_t stream, std::size_t bytes) override { m_recorder.bytesReceived(stream, bytes); }
    void streamDisconnected(std::uint64_t stream, const sse::Disconnect &disconnect) override;
    void pollCompleted(std::uint64_t stream, std::chrono::microseconds duration, std::size_t events) override
    {
        m_recorder.pollCompleted(stream, duration, events);
    }

    struct Owner {
        sse::Browser *browser = nullptr;
        int index = 0;
        std::chrono::seconds retryAfter{1};
    };

    StreamRecorder &m_recorder;
    net::DeadlineQueue &m_deadlines;
    std::vector<Browser> m_plan;
    std::size_t m_opened = 0;     // browsers of the plan (in arrival order) opened so far
    std::chrono::steady_clock::time_point m_openedAt;
    std::uint64_t m_openTimer = 0; // the next batch, 0 when none is pending
    std::vector<std::unique_ptr<sse::Browser>> m_browsers;
    std::vector<std::unique_ptr<sse::Poller>> m_pollers;
    std::vector<Owner> m_owners; // by stream tag
    std::unordered_set<std::uint64_t> m_reopenTimers;
    bool m_closing = false;
};

} // namespace edgesse::sim
