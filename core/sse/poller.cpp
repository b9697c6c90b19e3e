#include "core/sse/poller.h"

#include "core/http/connectionpool.h"
#include "core/net/deadlinequeue.h"

namespace edgesse::sse {

using std::chrono::duration_cast;
using std::chrono::microseconds;

namespace {

struct NullObserver final : StreamObserver {
    void eventReceived(std::uint64_t, const ReceivedEvent &) override {}
};

std::optional<std::uint64_t> parseDecimal(const QByteArray &text)
{
    bool ok = false;
    const qulonglong v = text.trimmed().toULongLong(&ok, 10);
    return ok ? std::optional<std::uint64_t>(v) : std::nullopt;
}

} // namespace

Poller::Poller(Config config, net::DeadlineQueue &timers, StreamObserver *observer, std::uint64_t streamTag)
    : m_config(std::move(config))
    , m_timers(timers)
    , m_observer(observer)
    , m_tag(streamTag)
    , m_parser(*this)
    , m_after(m_config.startAfter)
{
    static NullObserver nullObserver;
    if (!m_observer)
        m_observer = &nullObserver;
    http::ConnectionPool::Config pc;
    pc.host = m_config.host;
    pc.port = m_config.port;
    pc.protocol = m_config.protocol;
    pc.maxConnections = 1;
    m_pool = std::make_unique<http::ConnectionPool>(pc);
    m_pool->setTls(m_config.tls);
}

Poller::~Poller()
{
    stop();
}

void Poller::start()
{
    if (m_running)
        return;
    m_running = true;
    m_startedAt = Clock::now();
    pollNow();
}

void Poller::stop()
{
    m_running = false;
    if (m_timer) {
        m_timers.cancel(m_timer);
        m_timer = 0;
    }
    if (m_requestActive) {
        m_requestActive = false;
        m_pool->cancel(this);
    }
}

void Poller::pollNow()
{
    m_timer = 0;
    m_pollStartedAt = Clock::now();
    m_eventsThisPoll = 0;
    m_status = 0;
    m_parser.reset();

    http::ClientRequest request;
    request.authority = m_pool->authority();
    request.path = m_config.path;
    if (m_after) {
        request.path += "?after=" + QByteArray::number(static_cast<qulonglong>(*m_after));
        if (m_config.longPoll)
            request.path += "&wait=1";
    }
    request.headers.push_back({"Accept", "text/event-stream"});
    request.headers.push_back({"Cache-Control", "no-cache"});
    m_requestActive = true;
    m_pool->submit(request, this);
}

void Poller::responseHeadReceived(const http::ResponseHead &head)
{
    m_status = head.status;
    if (head.status != 200)
        return; // the body (an error text) is ignored; responseCompleted counts the failure
    if (!m_after) {
        // The bootstrap answer: begin after the newest event published so far.
        m_after = parseDecimal(head.header("edgesse-last-id"));
        if (!m_after)
            m_after = 0;
    }
}

void Poller::responseDataReceived(const char *data, std::size_t size)
{
    if (m_status != 200)
        return;
    m_observer->bytesReceived(m_tag, size);
    m_parser.feed(data, size);
}

void Poller::eventDispatched(const Event &event)
{
    const auto now = Clock::now();
    std::optional<std::uint64_t> seq;
    bool ok = false;
    const qulonglong v = event.id.toULongLong(&ok, 10);
    if (ok && !event.id.isEmpty() && event.id.front() >= '0' && event.id.front() <= '9')
        seq = v;
    if (seq && (!m_after || *seq > *m_after))
        m_after = seq;
    ++m_events;
    ++m_eventsThisPoll;
    if (!m_firstEventSeen) {
        m_firstEventSeen = true;
        m_observer->firstEventReceived(m_tag, duration_cast<microseconds>(now - m_startedAt));
    }
    m_observer->eventReceived(m_tag, ReceivedEvent{event, seq, now});
}

void Poller::commentReceived(std::size_t bytes)
{
    m_observer->commentReceived(m_tag, bytes);
}

void Poller::responseCompleted()
{
    m_requestActive = false;
    // The body ended: an event whose blank line is the body's last bytes is complete; the
    // server writes whole events, so nothing is pending here.
    ++m_polls;
    m_observer->pollCompleted(m_tag, duration_cast<microseconds>(Clock::now() - m_pollStartedAt), m_eventsThisPoll);
    const bool failed = m_status != 200;
    if (failed) {
        ++m_failed;
        m_lastError = "poll answered HTTP " + QByteArray::number(m_status);
    }
    scheduleNext(failed);
}

void Poller::responseFailed(http::ClientError, const QString &message)
{
    m_requestActive = false;
    ++m_failed;
    m_lastError = message.toUtf8();
    Disconnect d;
    d.cause = DisconnectCause::Error;
    d.willReconnect = m_running;
    d.httpStatus = m_status;
    d.message = m_lastError;
    m_observer->streamDisconnected(m_tag, d);
    scheduleNext(true);
}

void Poller::scheduleNext(bool afterError)
{
    if (!m_running)
        return;
    if (afterError) {
        const auto wait = m_config.longPoll ? std::max(m_config.retryAfterError, m_config.interval) : m_config.interval;
        m_timer = m_timers.scheduleAfter(wait, [this] { pollNow(); });
        return;
    }
    if (m_config.longPoll) {
        m_timer = m_timers.scheduleAfter(std::chrono::nanoseconds(0), [this] { pollNow(); });
        return;
    }
    // Fixed rate: `interval` after the previous poll started (at once when it took longer).
    m_timer = m_timers.schedule(m_pollStartedAt + m_config.interval, [this] { pollNow(); });
}

} // namespace edgesse::sse
