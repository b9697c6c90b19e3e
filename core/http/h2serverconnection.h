#pragma once

#include <QByteArray>
#include <QObject>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace edgesse::http {

class HttpServer;
class HttpServerSocket;
class H2ServerExchange;

// One HTTP/2 connection (h2c, prior knowledge) served with nghttp2. Responses go out
// through data providers that defer while a stream has nothing queued and resume when the
// handler writes, so nghttp2 applies the peer's flow-control windows. Output is staged
// with nghttp2_session_mem_send and written once per flush; the socket is not fed while
// more than a high-water mark is still queued in user space.
class H2ServerConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2ServerConnection)

public:
    H2ServerConnection(HttpServer &server, HttpServerSocket *socket, bool reject);
    ~H2ServerConnection() override;

    // Feeds the bytes read while the protocol was being detected (the preface at least).
    void start(const QByteArray &received);
    void flush();
    // Server shutdown: GOAWAY, abort unfinished exchanges, close.
    void shutdown();

private:
    friend class H2ServerExchange;
    friend struct H2Callbacks;

    void onReadyRead();
    void receive(const char *data, qsizetype size);
    void sendPending();
    void needsFlush();
    void dispatch(H2ServerExchange &exchange);
    void streamClosed(std::int32_t streamId);
    void closeAfterWrite();
    void closeSoon();
    void closeNow();
    void updateQueued();
    void armIdleDeadline();
    // No request in progress: GOAWAY and close, and `expired` counted, after `timeout`.
    void armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired);
    void cancelIdleDeadline();
    // A stream with `streamQueued` bytes queued is past a per-stream, per-connection or
    // server-wide output bound.
    bool overQueueLimits(qint64 streamQueued) const;
    void notifyDrained();

    HttpServer &m_server;
    HttpServerSocket *m_socket = nullptr;
    nghttp2_session *m_session = nullptr;
    std::unordered_map<std::int32_t, std::unique_ptr<H2ServerExchange>> m_streams;
    std::vector<std::int32_t> m_drained; // streams whose output fell to the low-water mark
    qint64 m_streamQueued = 0;   // queued in streams, not yet taken by nghttp2
    qint64 m_reportedQueued = 0; // last value added to ServerCounters::bytesQueued
    std::uint64_t m_idleDeadline = 0;
    int m_activeRequests = 0;
    bool m_reject = false;
    bool m_goawaySubmitted = false;
    bool m_sending = false;
    bool m_dirty = false;
    bool m_closing = false;
    bool m_closed = false;

    friend class HttpServer;
};

} // namespace edgesse::http
