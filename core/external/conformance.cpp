#include "core/external/conformance.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace edgesse::external {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxHoldSamples = 100'000;
// A relay that adds more than this to the median event buffers: well above what a loaded
// machine adds to a relay that forwards at once, well below what a buffer that waits to fill adds.
constexpr double kHeldBackMs = 25.0;
constexpr std::chrono::seconds kQuietStream{5}; // the shortest read timeouts in front of SSE are about this

void addDistinct(QStringList &list, const QByteArray &value)
{
    const QString text = QString::fromLatin1(value);
    if (!list.contains(text) && list.size() < 8)
        list << text;
}

double percentileMs(std::vector<std::int64_t> us, double p)
{
    if (us.empty())
        return 0;
    std::sort(us.begin(), us.end());
    const auto rank = std::size_t(std::max(1.0, std::ceil(p / 100.0 * double(us.size()))));
    return double(us[std::min(rank, us.size()) - 1]) / 1000.0;
}

QString ms(double value)
{
    return value >= 100 ? QString::number(value, 'f', 0) : QString::number(value, 'f', 1);
}

QString seconds(std::chrono::microseconds d)
{
    return QString::number(double(d.count()) / 1e6, 'f', 1);
}

class ProbeSink final : public link::SseTapSink
{
public:
    void responseHead(const Head &head, TimePoint) override { status = head.status; }
    void eventSeen(const QByteArray &id, std::uint64_t, TimePoint) override
    {
        if (!got) {
            got = true;
            firstId = id;
        }
    }
    int status = 0;
    bool got = false;
    QByteArray firstId;
};

Finding contentType(const QString &node, const NodeObservations &seen)
{
    Finding f{node, QStringLiteral("content-type"), true, {}};
    const bool allStreams = !seen.contentTypes.isEmpty()
        && std::all_of(seen.contentTypes.begin(), seen.contentTypes.end(), [](const QString &t) {
               return t.trimmed().toLower().startsWith(QLatin1String("text/event-stream"));
           });
    if (seen.contentTypes.isEmpty()) {
        f.ok = false;
        f.note = QStringLiteral("sent no 200 response during the run");
    } else if (allStreams) {
        f.note = QStringLiteral("sends Content-Type: %1").arg(seen.contentTypes.first());
    } else {
        f.ok = false;
        f.note = QStringLiteral("sends Content-Type: %1; an EventSource fails on anything but text/event-stream")
                     .arg(seen.contentTypes.join(QStringLiteral(", ")));
    }
    return f;
}

Finding cacheControl(const QString &node, const NodeObservations &seen)
{
    Finding f{node, QStringLiteral("cache-control"), true, {}};
    const QString all = seen.cacheControls.join(QStringLiteral(", ")).toLower();
    if (seen.cacheControls.isEmpty() || all.trimmed().isEmpty() || all.trimmed() == QLatin1String(",")) {
        f.ok = false;
        f.note = QStringLiteral("sends no Cache-Control; a cache on the way may hold the stream: send Cache-Control: no-cache");
    } else if (all.contains(QLatin1String("no-cache"))) {
        f.note = QStringLiteral("sends Cache-Control: %1").arg(seen.cacheControls.join(QStringLiteral(" | ")));
    } else if (all.contains(QLatin1String("no-store"))) {
        f.note = QStringLiteral("sends Cache-Control: %1 (no-store keeps caches out too; no-cache is the usual choice)")
                     .arg(seen.cacheControls.join(QStringLiteral(" | ")));
    } else {
        f.ok = false;
        f.note = QStringLiteral("sends Cache-Control: %1 without no-cache; a cache may hold or replay the stream")
                     .arg(seen.cacheControls.join(QStringLiteral(" | ")));
    }
    return f;
}

Finding buffering(const QString &node, ServerRole role, const NodeObservations &seen, bool publishHook)
{
    Finding f{node, QStringLiteral("buffering"), true, {}};
    if (role == ServerRole::Pop || publishHook) {
        if (seen.holdUs.empty()) {
            f.note = QStringLiteral("no event passed through it, so its buffering could not be measured");
            return f;
        }
        const double p50 = percentileMs(seen.holdUs, 50), p99 = percentileMs(seen.holdUs, 99), max = percentileMs(seen.holdUs, 100);
        const QString what = role == ServerRole::Pop ? QStringLiteral("between reaching it and leaving it")
                                                     : QStringLiteral("from EdgeSSE's POST to its first byte out");
        f.ok = p50 <= kHeldBackMs;
        f.note = f.ok ? QStringLiteral("passes events on at once: p50 %1 ms, p99 %2 ms %3").arg(ms(p50), ms(p99), what)
                      : QStringLiteral("holds events back: p50 %1 ms, p99 %2 ms, max %3 ms %4 — it buffers the stream%5")
                            .arg(ms(p50), ms(p99), ms(max), what,
                                 role == ServerRole::Pop ? QStringLiteral(" (nginx: proxy_buffering off, or send X-Accel-Buffering: no)")
                                                         : QString());
        return f;
    }
    if (seen.eventReads == 0) {
        f.note = QStringLiteral("sent no event during the run");
        return f;
    }
    const double batched = double(seen.batchedReads) / double(seen.eventReads);
    f.note = batched <= 0.5 ? QStringLiteral("writes events as they come (%1% of its writes carried more than one)").arg(qRound(batched * 100))
                            : QStringLiteral("writes events in batches (%1% of its writes carried more than one); "
                                             "add publisher.post to measure how long it holds them").arg(qRound(batched * 100));
    return f;
}

Finding heartbeat(const QString &node, const NodeObservations &seen)
{
    Finding f{node, QStringLiteral("heartbeat"), true, {}};
    if (seen.comments > 0) {
        f.note = QStringLiteral("sends heartbeats: %1 comment lines; longest silence on a stream %2 s")
                     .arg(seen.comments)
                     .arg(seconds(seen.longestSilence));
    } else if (seen.longestSilence < kQuietStream) {
        f.note = QStringLiteral("sent no heartbeat comments, and needed none: no stream went more than %1 s without a byte")
                     .arg(seconds(seen.longestSilence));
    } else {
        f.ok = false;
        f.note = QStringLiteral("sends no heartbeat comments; a stream went %1 s without a byte — a proxy or load balancer "
                                "with a shorter read timeout cuts it (nginx: proxy_read_timeout, 60 s by default)")
                     .arg(seconds(seen.longestSilence));
    }
    return f;
}

Finding retry(const QString &node, const NodeObservations &seen)
{
    Finding f{node, QStringLiteral("retry"), true, {}};
    f.note = seen.retry ? QStringLiteral("sends retry: %1 ms").arg(seen.retry->count())
                        : QStringLiteral("sends no retry: field; browsers wait their own default before reconnecting (Chromium 3 s, Firefox 5 s)");
    return f;
}

Finding resume(const QString &node, const ResumeProbe &probe)
{
    Finding f{node, QStringLiteral("last-event-id"), true, {}};
    if (!probe.attempted) {
        f.note = QStringLiteral("not checked: fewer than three events with ids were seen");
    } else if (!probe.error.isEmpty()) {
        f.ok = false;
        f.note = QStringLiteral("not checked: %1").arg(probe.error);
    } else if (probe.status != 200 && probe.status != 0) {
        f.ok = false;
        f.note = QStringLiteral("answered %1 to a reconnect with Last-Event-ID: %2").arg(probe.status).arg(QString::fromLatin1(probe.sentId));
    } else if (probe.firstId.isEmpty()) {
        f.ok = false;
        f.note = QStringLiteral("sent no event within %1 ms of a reconnect with Last-Event-ID: %2 (expected id %3): no replay, "
                                "events published while a client was away are lost (or held back, see buffering)")
                     .arg(probe.waited.count())
                     .arg(QString::fromLatin1(probe.sentId), QString::fromLatin1(probe.expectedId));
    } else if (probe.firstId == probe.expectedId) {
        f.note = QStringLiteral("honours Last-Event-ID: a reconnect after id %1 resumed at id %2")
                     .arg(QString::fromLatin1(probe.sentId), QString::fromLatin1(probe.firstId));
    } else {
        f.ok = false;
        f.note = QStringLiteral("ignores Last-Event-ID: a reconnect after id %1 resumed at id %2, not %3 — the events between are lost")
                     .arg(QString::fromLatin1(probe.sentId), QString::fromLatin1(probe.firstId), QString::fromLatin1(probe.expectedId));
    }
    return f;
}

Finding cap(const QString &node, const NodeObservations &seen)
{
    Finding f{node, QStringLiteral("cap"), true, {}};
    std::uint64_t refused = 0, ok = 0;
    QStringList codes;
    for (const auto &[status, count] : seen.statuses) {
        if (status == 200) {
            ok += count;
            continue;
        }
        refused += count;
        codes << QStringLiteral("%1 ×%2").arg(status).arg(count);
    }
    if (refused == 0) {
        f.note = QStringLiteral("refused no stream during the run (%1 accepted)").arg(ok);
        return f;
    }
    const bool withRetryAfter = std::any_of(seen.retryAfters.begin(), seen.retryAfters.end(), [](const QString &r) { return !r.isEmpty(); });
    const bool is503 = seen.statuses.count(503) > 0;
    f.ok = is503 && withRetryAfter;
    f.note = QStringLiteral("refused %1 of %2 requests (%3)%4")
                 .arg(refused)
                 .arg(refused + ok)
                 .arg(codes.join(QStringLiteral(", ")),
                      withRetryAfter ? QStringLiteral(" with Retry-After: %1").arg(seen.retryAfters.join(QStringLiteral(", ")))
                                     : QStringLiteral(" without Retry-After; an EventSource gives up on a refusal, so the page must retry"));
    return f;
}

} // namespace

void NodeObserver::head(const link::SseTapSink::Head &h)
{
    std::lock_guard lock(m_mutex);
    ++m_seen.statuses[h.status];
    if (h.status == 200)
        addDistinct(m_seen.contentTypes, h.contentType);
    if (h.eventStream) {
        ++m_seen.eventStreams;
        addDistinct(m_seen.cacheControls, h.cacheControl);
    } else if (h.status != 200) {
        addDistinct(m_seen.retryAfters, h.retryAfter);
    }
}

void NodeObserver::event(bool)
{
    std::lock_guard lock(m_mutex);
    ++m_seen.events;
}

void NodeObserver::comment()
{
    std::lock_guard lock(m_mutex);
    ++m_seen.comments;
}

void NodeObserver::retry(std::chrono::milliseconds value)
{
    std::lock_guard lock(m_mutex);
    m_seen.retry = value;
}

void NodeObserver::read(int events)
{
    if (events <= 0)
        return;
    std::lock_guard lock(m_mutex);
    ++m_seen.eventReads;
    if (events > 1)
        ++m_seen.batchedReads;
}

void NodeObserver::silence(std::chrono::microseconds gap)
{
    std::lock_guard lock(m_mutex);
    m_seen.longestSilence = std::max(m_seen.longestSilence, gap);
}

void NodeObserver::hold(std::chrono::microseconds held)
{
    std::lock_guard lock(m_mutex);
    if (m_seen.holdUs.size() < kMaxHoldSamples)
        m_seen.holdUs.push_back(std::max<std::int64_t>(held.count(), 0));
}

NodeObservations NodeObserver::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_seen;
}

ResumeProbe probeResume(quint16 port, const QByteArray &path, const QByteArray &sentId, const QByteArray &expectedId,
                        std::chrono::milliseconds wait)
{
    ResumeProbe probe;
    probe.attempted = true;
    probe.sentId = sentId;
    probe.expectedId = expectedId;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        probe.error = QStringLiteral("cannot connect to port %1: %2").arg(port).arg(QString::fromLocal8Bit(std::strerror(errno)));
        if (fd >= 0)
            ::close(fd);
        return probe;
    }
    const QByteArray request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + QByteArray::number(port)
        + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nLast-Event-ID: " + sentId + "\r\n\r\n";
    (void)!::send(fd, request.constData(), std::size_t(request.size()), MSG_NOSIGNAL);
    ProbeSink sink;
    link::SseTap tap(sink);
    const auto start = Clock::now();
    const auto until = start + wait;
    char buffer[16384];
    while (!sink.got) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
        if (left <= 0ms)
            break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, int(left.count())) <= 0)
            continue;
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0)
            break;
        tap.bytesFromTarget(buffer, std::size_t(n), Clock::now());
    }
    ::close(fd);
    probe.status = sink.status;
    probe.firstId = sink.firstId;
    probe.waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
    return probe;
}

QList<Finding> conformance(const QString &node, ServerRole role, const NodeObservations &seen, const ResumeProbe &probe,
                           bool publishHook)
{
    return {contentType(node, seen), cacheControl(node, seen), buffering(node, role, seen, publishHook),
            heartbeat(node, seen),   retry(node, seen),        resume(node, probe),
            cap(node, seen)};
}

} // namespace edgesse::external
