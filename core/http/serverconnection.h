#pragma once

#include "core/http/httpmessage.h"
#include "core/http/serverlimits.h"

#include <QByteArray>
#include <QObject>

#include <chrono>
#include <cstdint>
#include <functional>

namespace edgesse::net {
class DeadlineQueue;
}
namespace edgesse::tls {
class TlsContext;
}

namespace edgesse::http {

class HttpServerSocket;
class RequestHandler;
class ServerConnection;

enum class WireProtocol { Http1, Http2 };

// What accept-time detection found: the protocol and the bytes read to find it.
struct DetectedProtocol {
    WireProtocol protocol = WireProtocol::Http1;
    QByteArray received;
    // The bytes are the start of a request head that did not finish within the header timeout.
    bool headTimedOut = false;
};

// What a connection needs from the server that accepted it, and all it may tell it back.
// Everything here is used from the server's thread only.
class ConnectionContext
{
public:
    virtual ~ConnectionContext() = default;
    virtual const ServerLimits &limits() const = 0;
    virtual RequestHandler &handler() const = 0;
    virtual ServerCounters &counters() const = 0;
    virtual net::DeadlineQueue &deadlines() const = 0;
    // The server's TLS certificate, or nullptr when it speaks cleartext only.
    virtual const tls::TlsContext *tls() const = 0;
    // The connection has output staged: flush() it once before this loop pass ends.
    virtual void flushRequested(ServerConnection &connection) = 0;
    // The connection is done with its socket; the context deletes it later.
    virtual void connectionFinished(ServerConnection &connection) = 0;
    // Accept-time detection decided: serve `socket` with the protocol found. `reject` as
    // decided at accept (the connection stays counted, or not, as it was).
    virtual void protocolDetected(HttpServerSocket *socket, DetectedProtocol detected, bool reject) = 0;
};

// What HTTP/1.1 and HTTP/2 connections (and accept-time detection) share: the socket, the
// one deadline a connection has at a time, byte counters, the queued-bytes account, the
// 503 answer over the connection cap, and the ways to close.
class ServerConnection : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ServerConnection)

public:
    // Takes `socket` (reparented to this). `reject`: over the connection cap, every request
    // is answered 503 and the connection was not counted in connectionsOpen.
    ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject, QObject *parent);
    ~ServerConnection() override;

    // Feeds what accept-time detection read before this connection took the socket.
    virtual void start(const DetectedProtocol &detected) = 0;
    // Sends what was staged since the last flush (see ConnectionContext::flushRequested).
    virtual void flush() {}
    // Server shutdown: abort unfinished exchanges and close now.
    virtual void shutdown() = 0;

    // Whether the connection still stands in ServerCounters::connectionsOpen.
    bool counted() const { return m_counted; }
    bool rejecting() const { return m_reject; }

protected:
    // The exchanges in progress end without their handler finishing them.
    virtual void abortExchanges() {}

    ConnectionContext &context() const { return m_context; }
    const ServerLimits &limits() const { return m_context.limits(); }
    ServerCounters &counters() const { return m_context.counters(); }
    HttpServerSocket *socket() const { return m_socket; }
    bool isClosed() const { return m_closed; }
    bool isClosing() const { return m_closing; }

    static constexpr int kRejectStatus = 503;
    // With CORS headers for `request`, so a page can read the 503 and its Retry-After.
    HttpHeaders rejectHeaders(const HttpRequest &request) const;
    static QByteArray rejectBody();

    void countReceived(qint64 bytes);
    // Reads what the socket holds in 16 KB chunks, counting each, and hands every chunk to
    // `consume(data, size)`. False when the connection closed meanwhile: the peer went away
    // (closed here) or `consume` closed it.
    template <typename Consume>
    bool readAvailable(Consume &&consume);
    qint64 readSocket(char *buffer, qsizetype size);
    void countSent(qint64 bytes);
    // Keeps ServerCounters::bytesQueued in step with what this connection holds.
    void reportQueued(qint64 queued);

    // One deadline at a time: arming replaces the previous one.
    void armDeadline(std::chrono::milliseconds after, std::function<void()> expired);
    void cancelDeadline();

    // Sends what is queued, half-closes and waits for the peer (bounded by the header timeout).
    void closeAfterWrite();
    // closeNow() on the next loop pass (never from inside a socket signal).
    void closeSoon();
    void closeNow();
    // Gives the socket up (accept-time detection handing over); the connection is finished.
    HttpServerSocket *releaseSocket();

private:
    ConnectionContext &m_context;
    HttpServerSocket *m_socket = nullptr;
    std::uint64_t m_deadline = 0;
    qint64 m_reportedQueued = 0;
    bool m_reject = false;
    bool m_counted = false;
    bool m_closing = false;
    bool m_closed = false;
};

template <typename Consume>
bool ServerConnection::readAvailable(Consume &&consume)
{
    constexpr qsizetype kReadChunk = 16 * 1024;
    char buffer[kReadChunk];
    for (;;) {
        const qint64 n = readSocket(buffer, kReadChunk);
        if (n < 0) { // end of stream or error: the peer is gone
            closeNow();
            return false;
        }
        if (n == 0)
            return true;
        countReceived(n);
        consume(static_cast<const char *>(buffer), qsizetype(n));
        if (m_closed)
            return false;
        if (n < kReadChunk)
            return true;
    }
}

} // namespace edgesse::http
