#pragma once

#include "core/http/serverconnection.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace edgesse::http {

class H2ServerExchange;

// One HTTP/2 connection served with nghttp2. Responses go out
// through data providers that defer while a stream has nothing queued and resume when the
// handler writes, so nghttp2 applies the peer's flow-control windows. Output is staged
// with nghttp2_session_mem_send and written once per flush; the socket is not fed while
// more than a high-water mark is still queued in user space.
class H2ServerConnection final : public ServerConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2ServerConnection)

public:
    H2ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject, QObject *parent);
    ~H2ServerConnection() override;

    void start(const DetectedProtocol &detected) override;
    void flush() override;
    // Server shutdown: GOAWAY, abort unfinished exchanges, close.
    void shutdown() override;

private:
    friend class H2ServerExchange;
    friend struct H2Callbacks;

    void abortExchanges() override;
    void onReadyRead();
    void receive(const char *data, qsizetype size);
    void sendPending();
    void needsFlush();
    void dispatch(H2ServerExchange &exchange);
    void streamClosed(std::int32_t streamId);
    void updateQueued();
    void armIdleDeadline();
    // No request in progress: GOAWAY and close, and `expired` counted, after `timeout`.
    void armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired);
    // A stream with `streamQueued` bytes queued is past a per-stream, per-connection or
    // server-wide output bound.
    bool overQueueLimits(qint64 streamQueued) const;
    void notifyDrained();

    nghttp2_session *m_session = nullptr;
    std::unordered_map<std::int32_t, std::unique_ptr<H2ServerExchange>> m_streams;
    std::vector<std::int32_t> m_drained; // streams whose output fell to the low-water mark
    QByteArray m_out;            // frames staged for one socket write, reused between flushes
    qint64 m_streamQueued = 0;   // queued in streams, not yet taken by nghttp2
    int m_activeRequests = 0;
    bool m_goawaySubmitted = false;
    bool m_sending = false;
    bool m_dirty = false;
};

} // namespace edgesse::http
