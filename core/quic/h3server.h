#pragma once

#include "core/http/httpserverexchange.h"
#include "core/http/serverlimits.h"

#include <QByteArray>
#include <QHostAddress>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace edgesse::quic {

class H3ServerConnection;
class QuicTls;
class UdpSocket;
struct SocketAddress;

// What the UDP port saw, beside the HTTP counters (read from any thread, relaxed).
struct QuicServerCounters {
    std::atomic<qint64> datagramsReceived{0};
    // Not QUIC, truncated, an unknown connection's short-header packet, an Initial that
    // ngtcp2 refuses, or a connection's packet it could not decrypt: dropped, nothing kept.
    std::atomic<qint64> datagramsDropped{0};
    std::atomic<qint64> handshakesRefused{0}; // new connections beyond kMaxHandshakes or the cap
    std::atomic<qint64> http3Connections{0};  // total that completed the handshake
    std::atomic<qint64> connectionsOpen{0};   // QUIC connections held now (handshaking included)
};

// HTTP/3 over QUIC on one UDP port (ngtcp2 + nghttp3, TLS 1.3 by GnuTLS with the run's
// certificate), serving the same RequestHandler as the TCP server beside it: each request
// is an HttpServerExchange like an HTTP/1.1 or HTTP/2 one, so SSE streams, polls, replay,
// caps and max stream duration behave alike on all three. Lives in one thread (any event
// dispatcher) and serves every connection there. Bounded against floods: datagrams are read
// into one fixed buffer, a datagram that does not parse as QUIC is dropped without state,
// and at most kMaxHandshakes connections may be handshaking at once (the rest of the new
// ones are dropped and retried by their clients). Over ServerLimits::maxConnections every
// request is answered 503 with Retry-After, as on TCP. Output bounds are those of
// ServerLimits (a stream's unacknowledged bytes count as queued).
class H3Server final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3Server)

public:
    static constexpr std::size_t kMaxHandshakes = 256;
    static constexpr std::size_t kMaxConnectionsHardCap = 20000;

    // `quic` may be shared with readers on other threads; it must outlive the server.
    H3Server(const http::ServerLimits &limits, http::RequestHandler *handler, http::ServerCounters *counters,
             QuicServerCounters *quic, std::shared_ptr<const QuicTls> tls, QObject *parent = nullptr);
    ~H3Server() override;

    bool listen(const QHostAddress &address, quint16 port);
    quint16 port() const;
    QString errorString() const { return m_error; }
    const QuicServerCounters &quicCounters() const { return *m_quic; }
    // CONNECTION_CLOSE (H3_NO_ERROR) to every connection; unfinished exchanges are aborted.
    void close();

    const http::ServerLimits &limits() const { return m_limits; }
    http::RequestHandler &handler() const { return *m_handler; }
    http::ServerCounters &counters() const { return *m_counters; }

private:
    friend class H3ServerConnection;
    void onDatagram(const SocketAddress &from, const std::uint8_t *data, std::size_t size);
    void accept(const SocketAddress &from, const std::uint8_t *data, std::size_t size);
    void route(const QByteArray &cid, H3ServerConnection *connection);
    void unroute(const QByteArray &cid);
    void connectionFinished(H3ServerConnection *connection);
    void handshakeCompleted(H3ServerConnection *connection);

    http::ServerLimits m_limits;
    http::RequestHandler *m_handler = nullptr;
    http::ServerCounters *m_counters = nullptr;
    std::shared_ptr<const QuicTls> m_tls;
    UdpSocket *m_socket = nullptr;
    std::unordered_map<std::string, H3ServerConnection *> m_byCid;
    std::vector<H3ServerConnection *> m_connections; // owned (children)
    std::size_t m_handshaking = 0;
    QuicServerCounters *m_quic = nullptr;
    QString m_error;
};

} // namespace edgesse::quic
