#pragma once

#include "core/http/httpserver.h"
#include "core/quic/h3server.h"
#include "core/sse/sseevent.h"
#include "core/tls/tlscontext.h"

#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QUrl>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

class QThread;

namespace edgesse::sse {

enum class ServerRole {
    Origin, // the publisher's events are published into it
    Edge,   // an edge relay publishes what it receives from upstream into it
};

struct ServerSettings {
    ServerRole role = ServerRole::Origin;
    QHostAddress address = QHostAddress(QHostAddress::LocalHost);
    quint16 port = 0; // 0: any free port; port() reports it
    // A comment line (": heartbeat") to every open stream at this interval; none when empty.
    std::optional<std::chrono::milliseconds> heartbeat;
    // Written as "retry: <ms>" at the start of every stream; nothing when empty.
    std::optional<std::chrono::milliseconds> retry;
    // Events kept for Last-Event-ID resumption, for polling and for streams that fell
    // behind: at most replayCapacity events and replayMaxBytes bytes (see ReplayBuffer).
    std::size_t replayCapacity = 1000;
    qint64 replayMaxBytes = 64 * 1024 * 1024;
    // A stream is ended (cleanly: last chunk / END_STREAM) after this long; none when empty.
    std::optional<std::chrono::milliseconds> maxStreamDuration;
    // A long poll with nothing to deliver is answered (empty) after this long.
    std::chrono::milliseconds longPollTimeout{30'000};
    // Request limits, timeouts, HTTP/2 stream limit, connection cap (503 + Retry-After).
    http::ServerLimits http;
    // HTTPS beside cleartext on the same port (told apart by the first byte); none when null.
    std::shared_ptr<const tls::TlsContext> tls;
    // A per-client edge: each /events stream takes the lowest free lane (0, 1, 2, ...) and,
    // once its lane's copy of the feed has delivered an event, gets that copy only
    // (publishCopy); until then it gets the first copy of each event.
    bool lanes = false;
    // HTTP/3 (QUIC) on a UDP port beside the TCP one, with the same certificate (loaded into
    // GnuTLS); none when null. http3Port 0: any free port; SseServer::http3Port() reports it.
    std::shared_ptr<const quic::QuicTls> http3;
    quint16 http3Port = 0;
};

// Counters as of one moment; each field is read lock-free, the set is not one atomic snapshot.
struct ServerStats {
    qint64 connectionsOpen = 0;
    qint64 connectionsMax = 0;
    qint64 connectionsTotal = 0;
    qint64 connectionsRejected = 0; // answered 503 + Retry-After (over the cap)
    qint64 http2Connections = 0;    // total that spoke HTTP/2
    qint64 http2StreamsMax = 0;     // the most requests at once on one HTTP/2 connection
    qint64 streamsOpen = 0;
    qint64 streamsMax = 0;
    qint64 streamsTotal = 0;
    qint64 streamsEndedByMaxDuration = 0;
    qint64 requests = 0;
    qint64 badRequests = 0;
    qint64 headerTimeouts = 0;    // 408: a request head slower than headerTimeout
    qint64 requestTimeouts = 0;   // closed: no first request within requestTimeout
    qint64 idleTimeouts = 0;      // closed: keep-alive idle for idleTimeout
    qint64 slowConsumersDropped = 0;
    qint64 acceptPauses = 0;      // episodes of accept failing for lack of descriptors or memory
    qint64 polls = 0;             // /poll requests answered
    qint64 longPollsWaiting = 0;
    qint64 bytesReceived = 0;
    qint64 bytesSent = 0;         // everything written, headers and framing included
    qint64 bytesQueued = 0;       // written by the server, not yet taken by the kernel
    qint64 heartbeatBytes = 0;    // heartbeat comment bytes (SSE payload, without framing)
    qint64 heartbeats = 0;        // heartbeat comments written (one per stream per tick)
    qint64 eventsPublished = 0;
    qint64 eventWrites = 0;       // event deliveries written to streams (live and replayed)
    qint64 replaysComplete = 0;   // Last-Event-ID requests whose gap was fully replayed
    qint64 replaysWithGap = 0;    // ... whose gap was partly or wholly gone from the buffer
    qint64 eventsReplayed = 0;
    qint64 eventsLostInGaps = 0;  // events a resuming reader asked for and could not get
    qint64 replayEvents = 0;      // held in the replay buffer now
    qint64 replayBytes = 0;       // ... and what they count against replayMaxBytes
    qint64 lanesInUse = 0;        // lanes: the highest lane held by an open stream, plus one
    qint64 http3Connections = 0;  // QUIC connections that completed the handshake
    qint64 quicDatagramsReceived = 0;
    qint64 quicDatagramsDropped = 0; // not QUIC, truncated, unknown connection, undecryptable
    qint64 quicHandshakesRefused = 0;
};

// One event stream as the server saw it: when its request arrived (steady clock), when it
// ended (nullopt while open), the Last-Event-ID it resumed from and the page's Origin.
struct StreamRecord {
    std::chrono::steady_clock::time_point requestedAt;
    std::optional<std::chrono::steady_clock::time_point> endedAt;
    QByteArray lastEventId;
    QByteArray origin;
    QByteArray method; // GET, or the preflight's OPTIONS (recorded too: it precedes a fetch client's GET)
    QByteArray query;  // the request target after '?'
};

// An SSE server — HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on one port, and with
// ServerSettings::http3 HTTP/3 on a UDP port beside it (the same handler: everything below
// holds on all three) — serving in a thread of its own or in a given one. Endpoints:
//
// GET /events   text/event-stream, never ending (unless maxStreamDuration). Every event
//               published is written to every open stream at once, one write per event per
//               stream: `id: <seq>`, optional `event:`, `data:` lines, optional `retry:`.
//               With a `Last-Event-ID` header (or a `lastEventId` query parameter) the
//               events after that id are replayed first from the bounded replay buffer, and
//               the response says whether that was complete:
//                 header  `edgesse-replay: complete; replayed=N`
//                      or `edgesse-replay: gap; replayed=N; lost=M`   (M events are gone)
//                      or `edgesse-replay: gap; replayed=0; lost=unknown` (id not a number)
//                 and the same as the stream's first line, a comment:
//                         `: edgesse-replay complete replayed=N` / `... gap replayed=N lost=M`
//               Heartbeats are comment lines `: heartbeat`. HTTP/1.1 bodies are chunked
//               (close-delimited for an HTTP/1.0 client).
//               A replay is written from the shared replay buffer as the stream drains (no
//               per-stream copy), live events following once it has caught up; a stream whose
//               next event leaves the buffer first is dropped as a slow consumer
//               (ServerStats::slowConsumersDropped), as is one past the output bounds of
//               http::ServerLimits.
// GET /poll?after=ID           short poll: answered at once with every held event whose
//                              sequence number is above ID (possibly none).
// GET /poll?after=ID&wait=1    long poll: answered at once if there is such an event,
//                              otherwise held until the next publish or longPollTimeout.
//               Poll bodies use the SSE wire format (the events exactly as a stream would
//               carry them) with Content-Length (HTTP/1.1) / END_STREAM (HTTP/2); content
//               type text/event-stream. Headers: `edgesse-last-id: <newest seq published>`
//               and, when `after` is given, `edgesse-replay` as above. Without `after` the
//               body is empty and `edgesse-last-id` says where to start. A poll answer
//               carries at most 1 MB of events; the next poll gets the rest.
// Beyond the connection cap every request is answered 503 with `Retry-After`.
//
// publish() and stats() may be called from any thread.
class SseServer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SseServer)

public:
    explicit SseServer(const ServerSettings &settings, QObject *parent = nullptr);
    ~SseServer() override;

    // Listens and serves on `thread` (running, any event dispatcher), or on a thread of its
    // own when `thread` is null. False with errorString() when it cannot listen.
    bool start(QThread *thread = nullptr);
    // Closes every connection (GOAWAY on HTTP/2) and stops; idempotent.
    void stop();

    bool isRunning() const { return m_worker != nullptr; }
    quint16 port() const { return m_port; }
    // The UDP port HTTP/3 is served on; 0 without ServerSettings::http3.
    quint16 http3Port() const { return m_http3Port; }
    // Alt-Svc for clients that reach this server through a TCP front (a link's listen port,
    // which their requests' authority names): the UDP port fronting HTTP/3 on the same path,
    // so that a client following it keeps to its link. Other clients are sent the server's
    // own UDP port. Any thread.
    void advertiseHttp3Via(quint16 tcpFrontPort, quint16 udpFrontPort);
    QString errorString() const { return m_error; }
    // http://<address>:<port><path>
    QUrl url(const QString &path = QStringLiteral("/events")) const;
    const ServerSettings &settings() const { return m_settings; }

    void publish(const PublishedEvent &event);
    // Events published at the same moment (in sequence order): every stream gets them in one
    // write, as a runtime that corks a socket for the current tick would send them.
    void publish(std::vector<PublishedEvent> events);
    // One copy of an event from the feed of `lane` (ServerSettings::lanes). `first`: no copy
    // of it arrived before; it enters the replay buffer and goes to the streams not yet bound
    // to their lane. The stream of `lane` gets it when bound, after any events it missed
    // (from the replay buffer). Without lanes only the first copy is published.
    void publishCopy(const PublishedEvent &event, std::uint32_t lane, bool first);
    ServerStats stats() const;
    // What the test page last reported (GET /report?summary=JSON): its streams as it saw them.
    QByteArray lastReport() const;
    // With the page's events=1: each report's events, as sent ("[[stream, id, epoch ms], ...]"),
    // in arrival order, at most kEventReportBytes in all.
    static constexpr qsizetype kEventReportBytes = 32 * 1024 * 1024;
    std::vector<QByteArray> eventReports() const;
    // The page's clock pings: its epoch time in ms when it sent each, and when it arrived here.
    struct ClockPing {
        double pageEpochMs = 0;
        std::chrono::steady_clock::time_point arrivedAt;
    };
    std::vector<ClockPing> clockPings() const;
    // The first kStreamLogCapacity event streams and preflights, in arrival order.
    static constexpr std::size_t kStreamLogCapacity = 4096;
    std::vector<StreamRecord> streamLog() const;

    struct Counters;
    class Worker;

private:
    ServerSettings m_settings;
    std::shared_ptr<Counters> m_counters;
    std::unique_ptr<QThread> m_ownThread;
    Worker *m_worker = nullptr;
    quint16 m_port = 0;
    quint16 m_http3Port = 0;
    QString m_error;
};

} // namespace edgesse::sse
