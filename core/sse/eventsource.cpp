#include "core/sse/eventsource.h"

#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"
#include "core/util/random.h"

#include <algorithm>

namespace edgesse::sse {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;

const char *disconnectCauseName(DisconnectCause cause)
{
    switch (cause) {
    case DisconnectCause::ServerClose: return "server_close";
    case DisconnectCause::IdleReap: return "idle_timeout";
    case DisconnectCause::MaxDuration: return "max_duration";
    case DisconnectCause::Error: return "error";
    case DisconnectCause::Non200: return "non_200";
    case DisconnectCause::Closed: return "closed";
    }
    return "error";
}

namespace {

struct NullObserver final : StreamObserver {
    void eventReceived(std::uint64_t, const ReceivedEvent &) override {}
};

StreamObserver &nullObserver()
{
    static NullObserver observer;
    return observer;
}

// The decimal sequence number in an `id`, or nothing for an empty or non-numeric id.
std::optional<std::uint64_t> parseSeq(const QByteArray &id)
{
    if (id.isEmpty() || id.size() > 20)
        return std::nullopt;
    std::uint64_t v = 0;
    for (char c : id) {
        if (c < '0' || c > '9')
            return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(c - '0');
        if (v > (UINT64_MAX - digit) / 10)
            return std::nullopt;
        v = v * 10 + digit;
    }
    return v;
}

bool isEventStream(const QByteArray &contentType)
{
    // The MIME type essence: before any parameter, trimmed, case-insensitive.
    const qsizetype semicolon = contentType.indexOf(';');
    const QByteArray essence = (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed();
    return essence.compare("text/event-stream", Qt::CaseInsensitive) == 0;
}

// The charset parameter of a content type, unquoted; empty when there is none.
QByteArray charsetOf(const QByteArray &contentType)
{
    const QList<QByteArray> parts = contentType.split(';');
    for (qsizetype i = 1; i < parts.size(); ++i) {
        const QByteArray p = parts[i].trimmed();
        const qsizetype eq = p.indexOf('=');
        if (eq > 0 && p.left(eq).trimmed().compare("charset", Qt::CaseInsensitive) == 0) {
            QByteArray value = p.mid(eq + 1).trimmed();
            if (value.size() >= 2 && value.startsWith('"') && value.endsWith('"'))
                value = value.mid(1, value.size() - 2);
            return value;
        }
    }
    return {};
}

} // namespace

EventSource::EventSource(EventSourceConfig config, http::ConnectionPool &pool, net::DeadlineQueue &timers,
                         StreamObserver *observer, std::uint64_t streamTag)
    : m_config(std::move(config))
    , m_pool(pool)
    , m_timers(timers)
    , m_observer(observer ? observer : &nullObserver())
    , m_tag(streamTag)
    , m_parser(*this)
    , m_random(m_config.seed ^ (streamTag * util::kGoldenGamma))
    , m_retry(std::max(m_config.defaultRetry, m_config.minRetry))
{
    m_parser.setLastEventId(m_config.lastEventId);
}

EventSource::~EventSource()
{
    if (m_timer)
        m_timers.cancel(m_timer);
    if (m_requestActive)
        m_pool.cancel(this);
}

void EventSource::open()
{
    if (m_state != ReadyState::Closed)
        return;
    m_state = ReadyState::Connecting;
    connectNow();
}

void EventSource::close()
{
    if (m_state == ReadyState::Closed)
        return;
    if (m_timer) {
        m_timers.cancel(m_timer);
        m_timer = 0;
    }
    const bool wasActive = m_requestActive;
    if (m_requestActive) {
        m_requestActive = false;
        m_pool.cancel(this);
    }
    m_state = ReadyState::Closed;
    m_starved = false;
    if (wasActive) {
        const auto now = Clock::now();
        m_lastDisconnect = Disconnect{};
        m_lastDisconnect.cause = DisconnectCause::Closed;
        m_lastDisconnect.connectionAge = m_opened ? duration_cast<microseconds>(now - m_openedAt) : microseconds(0);
        m_lastDisconnect.sinceLastByte = m_opened ? duration_cast<microseconds>(now - m_lastByteAt) : microseconds(0);
        m_lastDisconnect.message = "closed by the client";
        m_observer->streamDisconnected(m_tag, m_lastDisconnect);
    }
}

void EventSource::connectNow()
{
    m_timer = 0;
    m_parser.reset();
    m_opened = false;
    m_firstEventSeen = false;
    m_attemptStartedAt = Clock::now();

    http::ClientRequest request;
    request.path = m_config.path;
    request.authority = m_pool.authority();
    request.headers.reserve(3 + m_config.extraHeaders.size());
    request.headers.push_back({"Accept", "text/event-stream"});
    request.headers.push_back({"Cache-Control", "no-cache"});
    if (!m_parser.lastEventId().isEmpty())
        request.headers.push_back({"Last-Event-ID", m_parser.lastEventId()});
    for (const http::Header &h : m_config.extraHeaders)
        request.headers.push_back(h);
    m_requestActive = true;
    m_pool.submit(request, this);
}

void EventSource::requestStarved(http::Clock::time_point since)
{
    m_starved = true;
    m_observer->streamStarved(m_tag, since);
}

void EventSource::requestStarted(const http::StartInfo &info)
{
    m_starved = false;
    m_requestSentAt = info.requestSentAt;
    ConnectInfo ci;
    ci.attempt = m_attempt;
    ci.protocol = info.protocol == http::ClientProtocol::Http3   ? Protocol::Http3
                  : info.protocol == http::ClientProtocol::Http2 ? Protocol::Http2
                                                                 : Protocol::Http1;
    ci.reusedConnection = info.reusedConnection;
    ci.connectTime = info.connectTime;
    ci.starvedFor = info.starvedFor;
    m_observer->streamConnected(m_tag, ci);
}

void EventSource::responseHeadReceived(const http::ResponseHead &head)
{
    const auto now = Clock::now();
    m_lastByteAt = now;
    if (head.status != 200) {
        rejectResponse(head.status, head.status == 204
                                        ? QByteArray("the server answered 204 No Content: the stream is over")
                                        : "the server answered HTTP " + QByteArray::number(head.status) + " instead of 200");
        return;
    }
    const QByteArray type = head.header("content-type");
    if (!isEventStream(type)) {
        rejectResponse(head.status, "the response is '" + (type.isEmpty() ? QByteArray("(no content type)") : type) +
                                        "', not text/event-stream");
        return;
    }
    const QByteArray charset = charsetOf(type);
    if (m_config.charsetMustBeUtf8 && !charset.isEmpty() && charset.compare("utf-8", Qt::CaseInsensitive) != 0) {
        rejectResponse(head.status, "the response's charset is '" + charset + "', not UTF-8");
        return;
    }
    m_opened = true;
    m_openedAt = now;
    m_failures = 0;
    m_reconnectsSinceOpen = 0;
    m_state = ReadyState::Open;
    m_observer->streamOpened(m_tag, duration_cast<microseconds>(now - m_requestSentAt));
}

void EventSource::rejectResponse(int status, const QByteArray &message)
{
    m_requestActive = false;
    m_pool.cancel(this);
    if (!m_config.fetchClient || !m_config.reconnect) {
        failForGood(DisconnectCause::Non200, status, message);
        return;
    }
    ++m_failures;
    m_starved = false;
    Disconnect d;
    d.cause = DisconnectCause::Non200;
    d.httpStatus = status;
    d.message = message;
    scheduleReconnect(d);
}

void EventSource::responseDataPlaced(const http::WirePlace &place)
{
    m_place = place;
}

void EventSource::responseDataReceived(const char *data, std::size_t size)
{
    m_lastByteAt = Clock::now();
    m_observer->bytesReceived(m_tag, size);
    m_parser.feed(data, size);
    m_place.reset();
}

void EventSource::eventDispatched(const Event &event)
{
    const auto now = Clock::now();
    ++m_events;
    if (!m_firstEventSeen) {
        m_firstEventSeen = true;
        m_observer->firstEventReceived(m_tag, duration_cast<microseconds>(now - m_attemptStartedAt));
    }
    std::optional<WireByte> wire;
    if (m_place)
        wire = WireByte{m_place->localIPv4, m_place->localPort, m_place->offset + m_parser.dispatchedAt()};
    m_observer->eventReceived(m_tag, ReceivedEvent{event, parseSeq(event.id), now, wire});
}

void EventSource::retryChanged(std::chrono::milliseconds retry)
{
    m_retry = std::max(retry, m_config.minRetry);
}

void EventSource::commentReceived(std::size_t bytes)
{
    m_observer->commentReceived(m_tag, bytes);
}

void EventSource::responseCompleted()
{
    m_requestActive = false;
    ended(true, m_opened ? 200 : 0, http::ClientError::ConnectionClosed, "the server ended the response");
}

void EventSource::responseFailed(http::ClientError error, const QString &message)
{
    m_requestActive = false;
    ended(false, m_opened ? 200 : 0, error, message.toUtf8());
}

void EventSource::ended(bool clean, int status, http::ClientError error, const QByteArray &message)
{
    const auto now = Clock::now();
    Disconnect d;
    d.httpStatus = status;
    d.message = message;
    d.connectionAge = m_opened ? duration_cast<microseconds>(now - m_openedAt) : microseconds(0);
    d.sinceLastByte = m_opened ? duration_cast<microseconds>(now - m_lastByteAt) : microseconds(0);
    const auto nearly = [](microseconds measured, milliseconds hint) {
        return hint.count() > 0 && measured >= duration_cast<microseconds>(hint) * 9 / 10;
    };
    if (m_opened && nearly(d.sinceLastByte, m_config.idleReapHint))
        d.cause = DisconnectCause::IdleReap;
    else if (m_opened && nearly(d.connectionAge, m_config.maxDurationHint))
        d.cause = DisconnectCause::MaxDuration;
    else if (clean || (m_opened && error == http::ClientError::ConnectionClosed))
        d.cause = DisconnectCause::ServerClose;
    else
        d.cause = DisconnectCause::Error;

    if (!m_opened)
        ++m_failures;
    m_starved = false;
    if (!m_config.reconnect) {
        m_state = ReadyState::Closed;
        m_lastDisconnect = d;
        m_observer->streamDisconnected(m_tag, d);
        return;
    }
    scheduleReconnect(d);
}

void EventSource::scheduleReconnect(Disconnect d)
{
    m_state = ReadyState::Connecting;
    d.willReconnect = true;
    d.reconnectDelay = nextDelay();
    m_lastDisconnect = d;
    ++m_reconnects;
    ++m_attempt;
    m_observer->streamDisconnected(m_tag, d);
    m_timer = m_timers.scheduleAfter(d.reconnectDelay, [this] { connectNow(); });
}

void EventSource::failForGood(DisconnectCause cause, int status, const QByteArray &message)
{
    m_state = ReadyState::Closed;
    m_starved = false;
    Disconnect d;
    d.cause = cause;
    d.httpStatus = status;
    d.message = message;
    m_lastDisconnect = d;
    m_observer->streamDisconnected(m_tag, d);
}

std::chrono::milliseconds EventSource::nextDelay()
{
    return reconnectDelay(m_config.reconnectPolicy, m_retry, m_reconnectsSinceOpen++, m_random);
}

} // namespace edgesse::sse
