#pragma once

#include "core/http/httpclient.h"
#include "core/sse/reconnectpolicy.h"
#include "core/sse/sseparser.h"
#include "core/sse/streamobserver.h"

#include <QByteArray>

#include <chrono>
#include <cstdint>

namespace edgesse::http {
class ConnectionPool;
}
namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::sse {

struct EventSourceConfig {
    QByteArray path = "/events";
    std::vector<http::Header> extraHeaders;
    // The reconnection time until the server sends `retry` (the browser profile's default:
    // Chromium and WebKit 3 s, Firefox 5 s); a `retry` below minRetry is raised to it.
    std::chrono::milliseconds defaultRetry{3000};
    std::chrono::milliseconds minRetry{0};
    // Browsers reconnect after exactly the reconnection time; a page's own policy may add
    // backoff and jitter (nullopt: none).
    std::optional<ReconnectPolicy> reconnectPolicy;
    // A fetch() client parses the stream itself: it sends Last-Event-ID as its own header and
    // reconnects (by its policy) after any failure, a non-200 or wrong content type included.
    bool fetchClient = false;
    // Chromium and WebKit fail a stream whose charset is not UTF-8; Firefox ignores it.
    bool charsetMustBeUtf8 = true;
    std::uint64_t seed = 1;
    // Hints for naming why a connection ended (0 = unused): an end after this long without
    // a byte counts as an idle reap; after this long connected, as max duration.
    std::chrono::milliseconds idleReapHint{0};
    std::chrono::milliseconds maxDurationHint{0};
    bool reconnect = true;
    QByteArray lastEventId; // sent on the first request when not empty
};

// A browser EventSource: GET with Accept: text/event-stream through a connection pool,
// the WHATWG parser on the body, and the browser's reconnection rules — after the stream
// ends or the network fails, wait `retry` (plus backoff and jitter) and reconnect with
// Last-Event-ID; a status other than 200, a 204, a content type other than
// text/event-stream, or (charsetMustBeUtf8) a charset other than UTF-8 fails the stream for
// good — except for a fetch client, which retries by its policy. Reports to a StreamObserver (no signals).
// Lives on one thread with its pool and deadline queue; not copyable, not a QObject (a
// browser population may hold tens of thousands).
class EventSource final : private http::ResponseHandler, private SseParser::Sink
{
public:
    enum class ReadyState : std::uint8_t { Connecting, Open, Closed };

    EventSource(EventSourceConfig config, http::ConnectionPool &pool, net::DeadlineQueue &timers,
                StreamObserver *observer, std::uint64_t streamTag);
    ~EventSource() override;
    EventSource(const EventSource &) = delete;
    EventSource &operator=(const EventSource &) = delete;

    void open();
    void close();

    ReadyState readyState() const { return m_state; }
    const QByteArray &lastEventId() const { return m_parser.lastEventId(); }
    std::chrono::milliseconds reconnectionTime() const { return m_retry; }
    std::uint64_t eventsReceived() const { return m_events; }
    std::uint32_t reconnects() const { return m_reconnects; }
    bool isStarved() const { return m_starved; }
    // Why the stream last disconnected (valid once reconnects() > 0 or Closed after a failure).
    const Disconnect &lastDisconnect() const { return m_lastDisconnect; }
    std::uint64_t tag() const { return m_tag; }

private:
    void connectNow();
    void ended(bool clean, int status, http::ClientError error, const QByteArray &message);
    void failForGood(DisconnectCause cause, int status, const QByteArray &message);
    void rejectResponse(int status, const QByteArray &message);
    void scheduleReconnect(Disconnect d);
    std::chrono::milliseconds nextDelay();

    // http::ResponseHandler
    void requestStarved(http::Clock::time_point since) override;
    void requestStarted(const http::StartInfo &info) override;
    void responseHeadReceived(const http::ResponseHead &head) override;
    void responseDataReceived(const char *data, std::size_t size) override;
    void responseDataPlaced(const http::WirePlace &place) override;
    void responseCompleted() override;
    void responseFailed(http::ClientError error, const QString &message) override;
    // SseParser::Sink
    void eventDispatched(const Event &event) override;
    void retryChanged(std::chrono::milliseconds retry) override;
    void commentReceived(std::size_t bytes) override;

    EventSourceConfig m_config;
    http::ConnectionPool &m_pool;
    net::DeadlineQueue &m_timers;
    StreamObserver *m_observer;
    std::uint64_t m_tag = 0;
    SseParser m_parser;
    std::uint64_t m_random = 0;       // util::splitMix64 state: 8 bytes a stream, not a Mersenne twister's 2.5 KB
    Disconnect m_lastDisconnect;
    std::chrono::milliseconds m_retry;
    Clock::time_point m_attemptStartedAt;
    Clock::time_point m_requestSentAt;
    Clock::time_point m_openedAt;
    Clock::time_point m_lastByteAt;
    std::uint64_t m_timer = 0;        // pending reconnect in m_timers, 0 when none
    std::uint64_t m_events = 0;
    std::uint32_t m_attempt = 0;
    std::uint32_t m_reconnects = 0;
    std::uint32_t m_failures = 0;     // consecutive attempts that did not open
    std::uint32_t m_reconnectsSinceOpen = 0; // the next reconnect's attempt number for the policy
    ReadyState m_state = ReadyState::Closed;
    bool m_requestActive = false;
    bool m_opened = false;            // this attempt got 200 + text/event-stream
    bool m_firstEventSeen = false;    // this attempt
    bool m_starved = false;
    std::optional<http::WirePlace> m_place; // of the chunk being parsed, when known
};

} // namespace edgesse::sse
