#include "core/sse/sseserver.h"

#include "core/net/deadlinequeue.h"
#include "core/sse/replaybuffer.h"
#include "core/sse/sseencoder.h"
#include "core/sse/testpage.h"
#include "core/http/cors.h"

#include <QThread>

#include <mutex>
#include <QTimer>

#include <atomic>
#include <unordered_map>
#include <vector>

namespace edgesse::sse {

struct SseServer::Counters {
    http::ServerCounters http;
    quic::QuicServerCounters quic;
    std::mutex reportMutex;
    QByteArray lastReport; // the test page's latest GET /report?summary=...
    std::vector<StreamRecord> streamLog; // under reportMutex
    std::vector<QByteArray> eventReports;
    qsizetype eventReportBytes = 0;
    std::vector<SseServer::ClockPing> clockPings;
    std::mutex frontMutex;
    std::unordered_map<quint16, quint16> http3Fronts; // TCP front port -> UDP front port, under frontMutex

    quint16 http3PortFor(const QByteArray &authority, quint16 own)
    {
        const qsizetype colon = authority.lastIndexOf(':');
        const quint16 front = colon < 0 ? 0 : authority.mid(colon + 1).toUShort();
        std::lock_guard lock(frontMutex);
        const auto it = http3Fronts.find(front);
        return it == http3Fronts.end() ? own : it->second;
    }

    void takeReport(const http::HttpRequest &request)
    {
        const auto arrivedAt = std::chrono::steady_clock::now();
        std::lock_guard lock(reportMutex);
        lastReport = QByteArray::fromPercentEncoding(request.queryValue("summary"));
        const QByteArray events = QByteArray::fromPercentEncoding(request.queryValue("events"));
        if (events.size() > 2 && eventReportBytes + events.size() <= SseServer::kEventReportBytes) {
            eventReportBytes += events.size();
            eventReports.push_back(events);
        }
        bool ok = false;
        const double ping = request.queryValue("ping").toDouble(&ok);
        if (ok && clockPings.size() < 1000)
            clockPings.push_back({ping, arrivedAt});
    }

    std::size_t logStream(const http::HttpRequest &request)
    {
        std::lock_guard lock(reportMutex);
        if (streamLog.size() >= SseServer::kStreamLogCapacity)
            return SIZE_MAX;
        streamLog.push_back({std::chrono::steady_clock::now(), std::nullopt, request.header("last-event-id"),
                             request.header("origin"), request.method, request.query});
        return streamLog.size() - 1;
    }
    void logEnd(std::size_t index)
    {
        std::lock_guard lock(reportMutex);
        if (index < streamLog.size())
            streamLog[index].endedAt = std::chrono::steady_clock::now();
    }
    std::atomic<qint64> streamsOpen{0};
    std::atomic<qint64> streamsMax{0};
    std::atomic<qint64> streamsTotal{0};
    std::atomic<qint64> streamsEndedByMaxDuration{0};
    std::atomic<qint64> polls{0};
    std::atomic<qint64> longPollsWaiting{0};
    std::atomic<qint64> heartbeatBytes{0};
    std::atomic<qint64> heartbeats{0};
    std::atomic<qint64> eventsPublished{0};
    std::atomic<qint64> eventWrites{0};
    std::atomic<qint64> replaysComplete{0};
    std::atomic<qint64> replaysWithGap{0};
    std::atomic<qint64> eventsReplayed{0};
    std::atomic<qint64> eventsLostInGaps{0};
    std::atomic<qint64> replayEvents{0};
    std::atomic<qint64> replayBytes{0};
    std::atomic<qint64> lanesInUse{0};
};

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr int kStreamKind = 1;
constexpr int kLongPollKind = 2;
constexpr std::size_t kNoSlot = ~std::size_t(0);
constexpr std::uint32_t kNoLane = ~std::uint32_t(0);
// A replay goes out from the shared buffer as the stream drains, in pieces of about this.
constexpr qsizetype kPieceBytes = 16 * 1024;
// A poll answer carries at most this much; the poller gets the rest with its next poll.
constexpr qsizetype kMaxPollBodyBytes = 1024 * 1024;

void raiseMax(std::atomic<qint64> &max, qint64 value)
{
    qint64 current = max.load(kRelaxed);
    while (value > current && !max.compare_exchange_weak(current, value, kRelaxed)) {
    }
}

http::HttpHeaders streamHeaders(const http::HttpRequest &request)
{
    return http::withCors(request, {{"content-type", "text/event-stream"}, {"cache-control", "no-store"}});
}

http::HttpHeaders textHeaders(const http::HttpRequest &request)
{
    return http::withCors(request, {{"content-type", "text/plain; charset=utf-8"}});
}

struct ReplayOutcome {
    QByteArray header;  // edgesse-replay value
    QByteArray comment; // the same as an SSE comment
};

} // namespace

class SseServer::Worker final : public QObject, public http::RequestHandler
{
public:
    Worker(const ServerSettings &settings, Counters *counters)
        : m_settings(settings), m_counters(counters), m_replay(settings.replayCapacity, settings.replayMaxBytes)
    {
    }

    ~Worker() override { shutdown(); }

    bool start(quint16 *port, quint16 *http3Port, QString *error)
    {
        m_http = std::make_unique<http::HttpServer>(m_settings.http, this, &m_counters->http, this);
        m_http->setTls(m_settings.tls);
        if (!m_http->listen(m_settings.address, m_settings.port)) {
            *error = QStringLiteral("cannot listen on %1:%2: %3 (choose another address or port, or 0 for any free one)")
                         .arg(m_settings.address.toString())
                         .arg(m_settings.port)
                         .arg(m_http->errorString());
            m_http.reset();
            return false;
        }
        *port = m_http->port();
        if (m_settings.http3 && !startHttp3(http3Port, error))
            return false;
        if (m_settings.heartbeat && m_settings.heartbeat->count() > 0) {
            m_heartbeat = new QTimer(this);
            m_heartbeat->setTimerType(Qt::PreciseTimer);
            m_heartbeat->setInterval(*m_settings.heartbeat);
            connect(m_heartbeat, &QTimer::timeout, this, &Worker::heartbeat);
            m_heartbeat->start();
        }
        return true;
    }

    // The same handler behind a UDP port: every HTTP/3 request is an exchange like the others.
    bool startHttp3(quint16 *port, QString *error)
    {
        m_h3 = std::make_unique<quic::H3Server>(m_settings.http, this, &m_counters->http, &m_counters->quic,
                                                m_settings.http3, this);
        if (!m_h3->listen(m_settings.address, m_settings.http3Port)) {
            *error = QStringLiteral("cannot serve HTTP/3: %1").arg(m_h3->errorString());
            m_h3.reset();
            m_http->close();
            m_http.reset();
            return false;
        }
        *port = m_h3->port();
        return true;
    }

    // RFC 7838: the same origin over HTTP/3 for a day, on the UDP port that fronts it on the
    // path the request came by (advertiseHttp3Via), else on the server's own.
    void advertiseHttp3(const http::HttpRequest &request, http::HttpHeaders &headers) const
    {
        if (!m_h3)
            return;
        const quint16 port = m_counters->http3PortFor(request.authority, m_h3->port());
        headers.emplace_back("alt-svc", "h3=\":" + QByteArray::number(port) + "\"; ma=86400");
    }

    void shutdown()
    {
        if (!m_http)
            return;
        if (m_heartbeat)
            m_heartbeat->stop();
        for (const Stream &s : m_streams) {
            if (s.deadline)
                m_http->deadlines().cancel(s.deadline);
        }
        for (const LongPoll &p : m_longPolls)
            m_http->deadlines().cancel(p.deadline);
        m_streams.clear();
        m_laneSlot.clear();
        m_longPolls.clear();
        m_counters->streamsOpen.store(0, kRelaxed);
        m_counters->longPollsWaiting.store(0, kRelaxed);
        if (m_h3)
            m_h3->close();
        m_h3.reset();
        m_http->close();
        m_http.reset();
    }

    // Events published together (one call) go to each stream in one write; nothing is held
    // back waiting for later events.
    void publish(const std::vector<PublishedEvent> &events)
    {
        if (!m_http || events.empty())
            return;
        QByteArray encoded;
        for (const PublishedEvent &event : events) {
            QByteArray one = SseEncoder::encode(event.event);
            encoded += one;
            m_replay.append(event.seq, std::move(one));
        }
        m_counters->replayEvents.store(static_cast<qint64>(m_replay.size()), kRelaxed);
        m_counters->replayBytes.store(m_replay.bytes(), kRelaxed);
        const auto n = static_cast<qint64>(events.size());
        const std::uint64_t newest = events.back().seq;
        const http::StreamChunk chunk(std::move(encoded));
        qint64 written = 0;
        std::vector<http::HttpServerExchange *> tooSlow;
        for (Stream &s : m_streams) {
            if (s.bound || (m_settings.lanes && newest <= s.sentThrough))
                continue; // a bound stream gets its lane's copy; an unbound one each event once
            if (!s.behind) {
                s.exchange->writeStream(chunk);
                s.sentThrough = newest;
                written += n;
            } else if (!stillHeld(s)) {
                tooSlow.push_back(s.exchange);
            }
        }
        for (http::HttpServerExchange *exchange : tooSlow)
            dropSlowConsumer(*exchange);
        m_counters->eventWrites.fetch_add(written, kRelaxed);
        // Counted once written to every stream, so a publisher can see the server is done.
        m_counters->eventsPublished.fetch_add(n, kRelaxed);
        if (!m_longPolls.empty()) {
            std::vector<LongPoll> waiting;
            waiting.swap(m_longPolls);
            m_counters->longPollsWaiting.store(0, kRelaxed);
            for (const LongPoll &p : waiting) {
                m_http->deadlines().cancel(p.deadline);
                answerPoll(*p.exchange, p.after, true);
            }
        }
        m_http->flush();
    }

    void publishCopy(const PublishedEvent &event, std::uint32_t lane, bool first)
    {
        if (!m_http)
            return;
        const std::size_t slot = m_settings.lanes && lane < m_laneSlot.size() ? m_laneSlot[lane] : kNoSlot;
        if (slot != kNoSlot)
            m_streams[slot].bound = true;
        if (first)
            publish(std::vector<PublishedEvent>{event});
        if (slot == kNoSlot)
            return;
        deliverToLane(slot, event);
        m_http->flush();
    }

    // http::RequestHandler
    void handleRequest(http::HttpServerExchange &exchange) override
    {
        const http::HttpRequest &request = exchange.request();
        if (request.method == "OPTIONS") {
            if (request.path == "/events")
                m_counters->logEnd(m_counters->logStream(request));
            exchange.respond(204, http::preflightHeaders(request), {});
            return;
        }
        if (request.method != "GET" && request.method != "HEAD") {
            http::HttpHeaders headers = textHeaders(request);
            headers.emplace_back("allow", "GET, HEAD, OPTIONS");
            exchange.respond(405, headers, QByteArrayLiteral("Only GET is served here.\n"));
            return;
        }
        if (request.path == "/report") {
            m_counters->takeReport(request);
            exchange.respond(204, http::corsHeaders(request), {});
        } else if (request.path == "/events") {
            openStream(exchange);
        } else if (request.path == "/poll") {
            poll(exchange);
        } else if (request.path == "/" || request.path == "/client.html") {
            exchange.respond(200, http::withCors(request, {{"content-type", "text/html; charset=utf-8"},
                                                           {"cache-control", "no-store"}}),
                             testPage());
        } else {
            exchange.respond(404, textHeaders(request),
                             QByteArrayLiteral("Not found. Paths: /events (SSE), /poll?after=ID[&wait=1] (polling), "
                                               "/client.html?streams=8&path=/events (test page).\n"));
        }
    }

    void exchangeAborted(http::HttpServerExchange &exchange) override
    {
        if (exchange.handlerKind == kStreamKind)
            removeStream(exchange.handlerSlot, false);
        else if (exchange.handlerKind == kLongPollKind)
            removeLongPoll(exchange.handlerSlot);
    }

    void exchangeDrained(http::HttpServerExchange &exchange) override
    {
        if (exchange.handlerKind == kStreamKind && m_streams[exchange.handlerSlot].behind)
            feed(exchange.handlerSlot);
    }

private:
    struct Stream {
        http::HttpServerExchange *exchange = nullptr;
        net::DeadlineQueue::Id deadline = 0;
        std::uint64_t sentThrough = 0; // the newest event written to it
        std::size_t logIndex = SIZE_MAX; // in Counters::streamLog
        // Being replayed to: it gets the events after sentThrough from the replay buffer as
        // it drains, not as they are published, until it has caught up.
        bool behind = false;
        std::uint32_t lane = kNoLane; // ServerSettings::lanes
        bool bound = false;           // its lane's copy has reached it: it gets that copy only
    };

    // The event from the stream's own lane. Events it missed meanwhile come first, from the
    // replay buffer; those the buffer no longer holds are gone for it.
    void deliverToLane(std::size_t slot, const PublishedEvent &event)
    {
        Stream &s = m_streams[slot];
        if (s.behind || event.seq <= s.sentThrough)
            return;
        const std::optional<std::uint64_t> first = m_replay.firstHeldSeq();
        if (event.seq > s.sentThrough + 1 && first && *first <= s.sentThrough + 1 && m_replay.lastSeq() >= event.seq) {
            s.behind = true;
            feed(slot);
            return;
        }
        s.exchange->writeStream(http::StreamChunk(SseEncoder::encode(event.event)));
        s.sentThrough = event.seq;
        m_counters->eventWrites.fetch_add(1, kRelaxed);
    }

    std::uint32_t takeLane(std::size_t slot)
    {
        std::size_t lane = 0;
        while (lane < m_laneSlot.size() && m_laneSlot[lane] != kNoSlot)
            ++lane;
        if (lane == m_laneSlot.size())
            m_laneSlot.push_back(kNoSlot);
        m_laneSlot[lane] = slot;
        m_counters->lanesInUse.store(static_cast<qint64>(m_laneSlot.size()), kRelaxed);
        return static_cast<std::uint32_t>(lane);
    }

    void releaseLane(std::uint32_t lane)
    {
        if (lane >= m_laneSlot.size())
            return;
        m_laneSlot[lane] = kNoSlot;
        while (!m_laneSlot.empty() && m_laneSlot.back() == kNoSlot)
            m_laneSlot.pop_back();
        m_counters->lanesInUse.store(static_cast<qint64>(m_laneSlot.size()), kRelaxed);
    }

    // The next event a stream being replayed to needs is still in the replay buffer.
    bool stillHeld(const Stream &s) const
    {
        const std::optional<std::uint64_t> first = m_replay.firstHeldSeq();
        return s.sentThrough >= m_replay.lastSeq() || (first && *first <= s.sentThrough + 1);
    }

    // Writes a stream being replayed to the events after sentThrough, a piece at a time,
    // until its output stays queued (the peer reads slower) or it has caught up.
    void feed(std::size_t slot)
    {
        Stream &s = m_streams[slot];
        while (s.behind && s.exchange->queuedBytes() <= http::kStreamLowWaterBytes) {
            if (!stillHeld(s)) {
                dropSlowConsumer(*s.exchange);
                return;
            }
            const ReplayBuffer::Since since = m_replay.since(s.sentThrough);
            if (since.count() == 0) {
                s.behind = false;
                break;
            }
            auto end = since.begin;
            qsizetype size = 0;
            for (; end != since.end && (size == 0 || size + end->encoded.size() <= kPieceBytes); ++end)
                size += end->encoded.size();
            QByteArray piece;
            piece.reserve(size);
            for (auto it = since.begin; it != end; ++it)
                piece += it->encoded;
            s.sentThrough = std::prev(end)->seq;
            s.exchange->writeStream(http::StreamChunk(std::move(piece)));
            m_counters->eventWrites.fetch_add(static_cast<qint64>(end - since.begin), kRelaxed);
        }
    }

    void dropSlowConsumer(http::HttpServerExchange &exchange)
    {
        removeStream(exchange.handlerSlot, false);
        exchange.dropSlowConsumer();
    }
    struct LongPoll {
        http::HttpServerExchange *exchange = nullptr;
        std::uint64_t after = 0;
        net::DeadlineQueue::Id deadline = 0;
    };

    ReplayOutcome replayOutcome(const ReplayBuffer::Since &since, bool known)
    {
        ReplayOutcome o;
        const QByteArray replayed = QByteArray::number(static_cast<qulonglong>(known ? since.count() : 0));
        if (!known) {
            o.header = "gap; replayed=0; lost=unknown";
            o.comment = "edgesse-replay gap replayed=0 lost=unknown";
            m_counters->replaysWithGap.fetch_add(1, kRelaxed);
        } else if (since.lost == 0) {
            o.header = "complete; replayed=" + replayed;
            o.comment = "edgesse-replay complete replayed=" + replayed;
            m_counters->replaysComplete.fetch_add(1, kRelaxed);
        } else {
            const QByteArray lost = QByteArray::number(static_cast<qulonglong>(since.lost));
            o.header = "gap; replayed=" + replayed + "; lost=" + lost;
            o.comment = "edgesse-replay gap replayed=" + replayed + " lost=" + lost;
            m_counters->replaysWithGap.fetch_add(1, kRelaxed);
            m_counters->eventsLostInGaps.fetch_add(static_cast<qint64>(since.lost), kRelaxed);
        }
        return o;
    }

    void openStream(http::HttpServerExchange &exchange)
    {
        const http::HttpRequest &request = exchange.request();
        QByteArray lastId = request.header("last-event-id");
        if (lastId.isNull())
            lastId = request.queryValue("lastEventId");
        lastId = lastId.trimmed();

        http::HttpHeaders headers = streamHeaders(request);
        advertiseHttp3(request, headers);
        QByteArray first;
        if (m_settings.retry)
            first += SseEncoder::retry(*m_settings.retry);
        Stream stream{&exchange, 0, m_replay.lastSeq(), m_counters->logStream(request), false};
        std::size_t replayed = 0;
        if (!lastId.isEmpty()) {
            bool ok = false;
            const std::uint64_t after = lastId.toULongLong(&ok);
            const ReplayBuffer::Since since = m_replay.since(ok ? after : m_replay.lastSeq());
            const ReplayOutcome outcome = replayOutcome(since, ok);
            headers.emplace_back("edgesse-replay", outcome.header);
            first += SseEncoder::comment(outcome.comment);
            if (ok && since.count() > 0) {
                // Replayed from the buffer as the stream drains: no private copy of it.
                stream.sentThrough = since.begin->seq - 1;
                stream.behind = true;
                replayed = since.count();
            }
        } else if (m_replay.capacity() > 0 && m_replay.lastSeq() > 0) {
            // An id-only message names where this stream starts without dispatching an event
            // (WHATWG: an empty data buffer still sets the last event ID), so a stream cut
            // before its first event resumes from here instead of losing what came meanwhile.
            first += "id: " + QByteArray::number(static_cast<qulonglong>(m_replay.lastSeq())) + "\n\n";
        }
        if (request.method == "HEAD") {
            m_counters->logEnd(stream.logIndex);
            exchange.respond(200, headers, {});
            return;
        }
        exchange.startStream(200, headers);
        if (!first.isEmpty())
            exchange.writeStream(http::StreamChunk(first));
        m_counters->eventsReplayed.fetch_add(static_cast<qint64>(replayed), kRelaxed);

        exchange.handlerKind = kStreamKind;
        exchange.handlerSlot = m_streams.size();
        if (m_settings.lanes)
            stream.lane = takeLane(m_streams.size());
        if (m_settings.maxStreamDuration) {
            http::HttpServerExchange *ex = &exchange;
            stream.deadline = m_http->deadlines().scheduleAfter(*m_settings.maxStreamDuration, [this, ex] {
                const std::size_t slot = ex->handlerSlot;
                m_streams[slot].deadline = 0;
                removeStream(slot, true);
                m_counters->streamsEndedByMaxDuration.fetch_add(1, kRelaxed);
                m_http->flush();
            });
        }
        m_streams.push_back(stream);
        m_counters->streamsTotal.fetch_add(1, kRelaxed);
        raiseMax(m_counters->streamsMax, m_counters->streamsOpen.fetch_add(1, kRelaxed) + 1);
        if (stream.behind)
            feed(m_streams.size() - 1);
    }

    void removeStream(std::size_t slot, bool end)
    {
        if (slot >= m_streams.size())
            return;
        Stream stream = m_streams[slot];
        if (stream.deadline)
            m_http->deadlines().cancel(stream.deadline);
        stream.exchange->handlerKind = 0;
        releaseLane(stream.lane);
        if (slot + 1 != m_streams.size()) {
            m_streams[slot] = m_streams.back();
            m_streams[slot].exchange->handlerSlot = slot;
            if (m_streams[slot].lane < m_laneSlot.size())
                m_laneSlot[m_streams[slot].lane] = slot;
        }
        m_streams.pop_back();
        m_counters->streamsOpen.fetch_sub(1, kRelaxed);
        m_counters->logEnd(stream.logIndex);
        if (end)
            stream.exchange->endStream();
    }

    void poll(http::HttpServerExchange &exchange)
    {
        const http::HttpRequest &request = exchange.request();
        const QByteArray afterText = request.queryValue("after");
        const QByteArray wait = request.queryValue("wait");
        const bool longPoll = !wait.isNull() && wait != "0" && wait != "false";
        if (afterText.isNull()) {
            // No position yet: say where the stream is, deliver nothing.
            respondPoll(exchange, {}, {});
            return;
        }
        bool ok = false;
        const std::uint64_t after = afterText.toULongLong(&ok);
        if (!ok) {
            m_counters->polls.fetch_add(1, kRelaxed);
            exchange.respond(400, textHeaders(exchange.request()),
                             QByteArrayLiteral("`after` must be an event sequence number (decimal).\n"));
            return;
        }
        if (longPoll && m_replay.since(after).count() == 0 && after >= m_replay.lastSeq()) {
            LongPoll p{&exchange, after, 0};
            exchange.handlerKind = kLongPollKind;
            exchange.handlerSlot = m_longPolls.size();
            http::HttpServerExchange *ex = &exchange;
            p.deadline = m_http->deadlines().scheduleAfter(m_settings.longPollTimeout, [this, ex, after] {
                removeLongPoll(ex->handlerSlot, false);
                answerPoll(*ex, after, false);
                m_http->flush();
            });
            m_longPolls.push_back(p);
            m_counters->longPollsWaiting.fetch_add(1, kRelaxed);
            return;
        }
        answerPoll(exchange, after, false);
    }

    void answerPoll(http::HttpServerExchange &exchange, std::uint64_t after, bool)
    {
        exchange.handlerKind = 0;
        ReplayBuffer::Since since = m_replay.since(after);
        QByteArray body;
        auto it = since.begin;
        for (; it != since.end && (body.isEmpty() || body.size() + it->encoded.size() <= kMaxPollBodyBytes); ++it)
            body += it->encoded;
        since.end = it;
        m_counters->eventWrites.fetch_add(static_cast<qint64>(since.count()), kRelaxed);
        respondPoll(exchange, body, replayOutcome(since, true).header);
    }

    void respondPoll(http::HttpServerExchange &exchange, const QByteArray &body, const QByteArray &replay)
    {
        m_counters->polls.fetch_add(1, kRelaxed);
        http::HttpHeaders headers = streamHeaders(exchange.request());
        advertiseHttp3(exchange.request(), headers);
        headers.emplace_back("edgesse-last-id", QByteArray::number(static_cast<qulonglong>(m_replay.lastSeq())));
        if (!replay.isEmpty())
            headers.emplace_back("edgesse-replay", replay);
        exchange.respond(200, headers, body);
    }

    void removeLongPoll(std::size_t slot, bool cancelDeadline = true)
    {
        if (slot >= m_longPolls.size())
            return;
        LongPoll p = m_longPolls[slot];
        if (cancelDeadline)
            m_http->deadlines().cancel(p.deadline);
        p.exchange->handlerKind = 0;
        if (slot + 1 != m_longPolls.size()) {
            m_longPolls[slot] = m_longPolls.back();
            m_longPolls[slot].exchange->handlerSlot = slot;
        }
        m_longPolls.pop_back();
        m_counters->longPollsWaiting.fetch_sub(1, kRelaxed);
    }

    void heartbeat()
    {
        if (m_streams.empty())
            return;
        static const http::StreamChunk chunk(SseEncoder::comment("heartbeat"));
        // Counted before they are written: a client that has read a heartbeat finds it in stats().
        const auto n = static_cast<qint64>(m_streams.size());
        m_counters->heartbeats.fetch_add(n, kRelaxed);
        m_counters->heartbeatBytes.fetch_add(n * chunk.payload().size(), kRelaxed);
        for (const Stream &s : m_streams) {
            if (!s.behind) // one with events waiting needs no keep-alive
                s.exchange->writeStream(chunk);
        }
        m_http->flush();
    }

    ServerSettings m_settings;
    Counters *m_counters = nullptr;
    ReplayBuffer m_replay;
    std::unique_ptr<http::HttpServer> m_http;
    std::unique_ptr<quic::H3Server> m_h3;
    QTimer *m_heartbeat = nullptr;
    std::vector<Stream> m_streams;
    std::vector<std::size_t> m_laneSlot; // lane -> slot in m_streams, kNoSlot when free
    std::vector<LongPoll> m_longPolls;
};

SseServer::SseServer(const ServerSettings &settings, QObject *parent)
    : QObject(parent), m_settings(settings), m_counters(std::make_shared<Counters>())
{
}

SseServer::~SseServer()
{
    stop();
}

bool SseServer::start(QThread *thread)
{
    if (m_worker)
        return true;
    if (!thread) {
        m_ownThread = std::make_unique<QThread>();
        m_ownThread->setObjectName(QStringLiteral("sse-server"));
        m_ownThread->start();
        thread = m_ownThread.get();
    }
    m_worker = new Worker(m_settings, m_counters.get());
    m_worker->moveToThread(thread);
    bool ok = false;
    quint16 port = 0;
    quint16 http3Port = 0;
    QString error;
    auto run = [&] { ok = m_worker->start(&port, &http3Port, &error); };
    if (thread == QThread::currentThread())
        run();
    else
        QMetaObject::invokeMethod(m_worker, run, Qt::BlockingQueuedConnection);
    if (!ok) {
        m_error = error;
        stop();
        return false;
    }
    m_port = port;
    m_http3Port = http3Port;
    return true;
}

void SseServer::stop()
{
    if (m_worker) {
        Worker *worker = m_worker;
        m_worker = nullptr;
        auto finish = [worker] { delete worker; };
        // A thread that already ended (its pool stopped first) cannot run anything: the
        // worker is deleted here then, its sockets closed from this thread.
        if (worker->thread() == QThread::currentThread() || !worker->thread()->isRunning())
            finish();
        else
            QMetaObject::invokeMethod(worker, finish, Qt::BlockingQueuedConnection);
    }
    if (m_ownThread) {
        m_ownThread->quit();
        m_ownThread->wait();
        m_ownThread.reset();
    }
}

void SseServer::advertiseHttp3Via(quint16 tcpFrontPort, quint16 udpFrontPort)
{
    std::lock_guard lock(m_counters->frontMutex);
    m_counters->http3Fronts[tcpFrontPort] = udpFrontPort;
}

QUrl SseServer::url(const QString &path) const
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    url.setHost(m_settings.address.toString());
    url.setPort(m_port);
    url.setPath(path);
    return url;
}

void SseServer::publish(const PublishedEvent &event)
{
    publish(std::vector<PublishedEvent>{event});
}

void SseServer::publish(std::vector<PublishedEvent> events)
{
    Worker *worker = m_worker;
    if (!worker)
        return;
    if (worker->thread() == QThread::currentThread())
        worker->publish(events);
    else
        QMetaObject::invokeMethod(
            worker, [worker, batch = std::move(events)] { worker->publish(batch); }, Qt::QueuedConnection);
}

std::vector<QByteArray> SseServer::eventReports() const
{
    std::lock_guard lock(m_counters->reportMutex);
    return m_counters->eventReports;
}

std::vector<SseServer::ClockPing> SseServer::clockPings() const
{
    std::lock_guard lock(m_counters->reportMutex);
    return m_counters->clockPings;
}

std::vector<StreamRecord> SseServer::streamLog() const
{
    std::lock_guard lock(m_counters->reportMutex);
    return m_counters->streamLog;
}

void SseServer::publishCopy(const PublishedEvent &event, std::uint32_t lane, bool first)
{
    Worker *worker = m_worker;
    if (!worker)
        return;
    if (worker->thread() == QThread::currentThread())
        worker->publishCopy(event, lane, first);
    else
        QMetaObject::invokeMethod(
            worker, [worker, event, lane, first] { worker->publishCopy(event, lane, first); }, Qt::QueuedConnection);
}

QByteArray SseServer::lastReport() const
{
    std::lock_guard lock(m_counters->reportMutex);
    return m_counters->lastReport;
}

ServerStats SseServer::stats() const
{
    const Counters &c = *m_counters;
    ServerStats s;
    s.connectionsOpen = c.http.connectionsOpen.load(kRelaxed);
    s.connectionsMax = c.http.connectionsMax.load(kRelaxed);
    s.connectionsTotal = c.http.connectionsTotal.load(kRelaxed);
    s.connectionsRejected = c.http.connectionsRejected.load(kRelaxed);
    s.http2Connections = c.http.http2Connections.load(kRelaxed);
    s.http2StreamsMax = c.http.http2StreamsMax.load(kRelaxed);
    s.requests = c.http.requests.load(kRelaxed);
    s.badRequests = c.http.badRequests.load(kRelaxed);
    s.headerTimeouts = c.http.headerTimeouts.load(kRelaxed);
    s.requestTimeouts = c.http.requestTimeouts.load(kRelaxed);
    s.idleTimeouts = c.http.idleTimeouts.load(kRelaxed);
    s.slowConsumersDropped = c.http.slowConsumersDropped.load(kRelaxed);
    s.acceptPauses = c.http.acceptPauses.load(kRelaxed);
    s.bytesReceived = c.http.bytesReceived.load(kRelaxed);
    s.bytesSent = c.http.bytesSent.load(kRelaxed);
    s.bytesQueued = c.http.bytesQueued.load(kRelaxed);
    s.streamsOpen = c.streamsOpen.load(kRelaxed);
    s.streamsMax = c.streamsMax.load(kRelaxed);
    s.streamsTotal = c.streamsTotal.load(kRelaxed);
    s.streamsEndedByMaxDuration = c.streamsEndedByMaxDuration.load(kRelaxed);
    s.polls = c.polls.load(kRelaxed);
    s.longPollsWaiting = c.longPollsWaiting.load(kRelaxed);
    s.heartbeatBytes = c.heartbeatBytes.load(kRelaxed);
    s.heartbeats = c.heartbeats.load(kRelaxed);
    s.eventsPublished = c.eventsPublished.load(kRelaxed);
    s.eventWrites = c.eventWrites.load(kRelaxed);
    s.replaysComplete = c.replaysComplete.load(kRelaxed);
    s.replaysWithGap = c.replaysWithGap.load(kRelaxed);
    s.eventsReplayed = c.eventsReplayed.load(kRelaxed);
    s.eventsLostInGaps = c.eventsLostInGaps.load(kRelaxed);
    s.replayEvents = c.replayEvents.load(kRelaxed);
    s.replayBytes = c.replayBytes.load(kRelaxed);
    s.lanesInUse = c.lanesInUse.load(kRelaxed);
    s.http3Connections = c.quic.http3Connections.load(kRelaxed);
    s.quicDatagramsReceived = c.quic.datagramsReceived.load(kRelaxed);
    s.quicDatagramsDropped = c.quic.datagramsDropped.load(kRelaxed);
    s.quicHandshakesRefused = c.quic.handshakesRefused.load(kRelaxed);
    return s;
}

} // namespace edgesse::sse
