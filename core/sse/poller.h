#pragma once

#include "core/http/httpclient.h"
#include "core/sse/sseparser.h"
#include "core/sse/streamobserver.h"
#include "core/tls/tlscontext.h"

#include <QString>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

namespace edgesse::http {
class ConnectionPool;
}
namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::sse {

// The polling baseline against an SseServer's /poll endpoint (see sseserver.h):
//   short polling  GET /poll?after=ID          every `interval` (fixed rate: the next poll
//                                              starts `interval` after the previous one
//                                              started, or at once if that one took longer)
//   long polling   GET /poll?after=ID&wait=1   re-issued as soon as each answer arrives
// The first request has no `after`: its `edgesse-last-id` header says where to begin, so a
// new poller, like a new stream, receives what is published from then on. Answers are
// event-stream bodies, parsed with the same WHATWG parser; every event is reported with
// its sequence number, every answer with pollCompleted(). A failed request (network error,
// non-200) is retried after `interval` (at least `retryAfterError` for long polling).
// One keep-alive connection (HTTP/1.1) or stream at a time (HTTP/2), reused.
class Poller final : private http::ResponseHandler, private SseParser::Sink
{
public:
    struct Config {
        QString host = QStringLiteral("127.0.0.1");
        quint16 port = 0;
        http::ClientProtocol protocol = http::ClientProtocol::Http1;
        bool longPoll = false;
        std::chrono::milliseconds interval{1000};
        std::chrono::milliseconds retryAfterError{1000};
        QByteArray path = "/poll";
        // Start after this sequence number instead of asking the server where to begin.
        std::optional<std::uint64_t> startAfter;
        std::shared_ptr<const tls::TlsContext> tls; // HTTPS; null for cleartext
    };

    Poller(Config config, net::DeadlineQueue &timers, StreamObserver *observer, std::uint64_t streamTag);
    ~Poller() override;
    Poller(const Poller &) = delete;
    Poller &operator=(const Poller &) = delete;

    void start();
    void stop();

    bool isRunning() const { return m_running; }
    std::uint64_t polls() const { return m_polls; }
    std::uint64_t failedPolls() const { return m_failed; }
    std::uint64_t eventsReceived() const { return m_events; }
    std::optional<std::uint64_t> lastSeq() const { return m_after; }
    const QByteArray &lastError() const { return m_lastError; }

private:
    void pollNow();
    void scheduleNext(bool afterError);

    void responseHeadReceived(const http::ResponseHead &head) override;
    void responseDataReceived(const char *data, std::size_t size) override;
    void responseCompleted() override;
    void responseFailed(http::ClientError error, const QString &message) override;
    void eventDispatched(const Event &event) override;
    void commentReceived(std::size_t bytes) override;

    Config m_config;
    net::DeadlineQueue &m_timers;
    StreamObserver *m_observer;
    std::uint64_t m_tag;
    std::unique_ptr<http::ConnectionPool> m_pool;
    SseParser m_parser;
    std::optional<std::uint64_t> m_after;  // the newest sequence number seen
    Clock::time_point m_startedAt;         // start()
    Clock::time_point m_pollStartedAt;
    QByteArray m_lastError;
    std::uint64_t m_timer = 0;
    std::uint64_t m_polls = 0;
    std::uint64_t m_failed = 0;
    std::uint64_t m_events = 0;
    std::size_t m_eventsThisPoll = 0;
    int m_status = 0;
    bool m_running = false;
    bool m_requestActive = false;
    bool m_firstEventSeen = false;
};

} // namespace edgesse::sse
