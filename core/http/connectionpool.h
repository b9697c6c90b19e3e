#pragma once

#include "core/http/httpclient.h"
#include "core/tls/tlscontext.h"

#include <QHostAddress>

#include <deque>
#include <optional>
#include <memory>
#include <unordered_map>
#include <vector>

class QTimer;

namespace edgesse::quic {
class QuicTls;
}

namespace edgesse::http {

// The connections a browser keeps to one origin. HTTP/1.1: up to `maxConnections` (6, as
// browsers do), one request each at a time; a request finding all of them busy waits —
// starved — until one frees or closes. HTTP/2: one multiplexed connection (a new one once
// it has gone away); the connection itself queues requests beyond the server's stream
// limit. HTTP/3 as HTTP/2, on one QUIC connection. Requests refused by a server that sent GOAWAY are retried on a fresh connection.
// With TLS, the pool keeps the origin's latest session ticket and offers it on the next
// connection, as a browser does (one cache per browser profile).
// Alt-Svc discovery (Config::altSvcDiscovery, protocol Http2, with setQuicTls), as Chromium's
// HttpStreamFactory::JobController does it: connections go over TCP until a response has
// carried `Alt-Svc: h3=...` for this host; then a request that needs a new connection starts
// a QUIC connection to the advertised port and a TCP one, the TCP one held back by 1.5 × the
// smoothed RTT of the last QUIC connection to the origin (300 ms when none ended yet) if QUIC
// has worked for this pool before, and not at all otherwise. The first to be ready carries
// every request that waited for either; the other is closed. A QUIC attempt that fails marks
// the alternative broken for 5 minutes (Chromium's first backoff). Requests keep going to a
// usable connection as long as there is one, whatever its protocol.
class ConnectionPool final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConnectionPool)

public:
    struct Config {
        QString host = QStringLiteral("127.0.0.1");
        quint16 port = 0;
        ClientProtocol protocol = ClientProtocol::Http1;
        int maxConnections = 6;              // HTTP/1.1 only
        std::int32_t h2WindowBytes = 1 << 20;
        // HTTP/2 streams opened before the server's SETTINGS, and never more than the cap
        // (the browser profile's; Chromium 100 and 256).
        std::uint32_t h2StreamsBeforeSettings = 100;
        std::uint32_t h2StreamCap = 256;
        bool altSvcDiscovery = false;
        // TLS 1.3 early data: a connection resuming a session whose ticket allows it sends its
        // first requests (GETs) with the ClientHello, one round trip sooner (Chromium: off).
        bool tlsEarlyData = false;
    };

    explicit ConnectionPool(Config config, QObject *parent = nullptr);
    ~ConnectionPool() override;

    const Config &config() const { return m_config; }
    // Source address every later connection binds to (null: the system's choice), so a link
    // can tell this pool's connections (one browser's) apart from others'.
    void setLocalAddress(const QHostAddress &address) { m_localAddress = address; }
    // TLS to the origin from the next connection on (ALPN h2 or http/1.1 by the protocol);
    // null for cleartext.
    void setTls(std::shared_ptr<const tls::TlsContext> context) { m_tls = std::move(context); }
    // What HTTP/3 connections trust (protocol Http3); they are always TLS.
    void setQuicTls(std::shared_ptr<const quic::QuicTls> context) { m_quic = std::move(context); }
    QByteArray authority() const;

    void submit(const ClientRequest &request, ResponseHandler *handler);
    // Drops the handler's request wherever it is (waiting or running); no more callbacks.
    void cancel(ResponseHandler *handler);
    // Closes every connection; running requests fail with ConnectionClosed.
    void closeAll();

    int connectionCount() const { return static_cast<int>(m_connections.size()); }
    // Requests waiting for a connection (HTTP/1.1) or a stream slot (HTTP/2).
    int starvedCount() const;
    std::uint64_t connectionsOpened() const { return m_connectionsOpened; }
    // Discovery: races between QUIC and TCP started, and how many QUIC won.
    std::uint64_t racesStarted() const { return m_racesStarted; }
    std::uint64_t racesWonByQuic() const { return m_racesWonByQuic; }
    // How long the TCP connection of the next race waits (0 until QUIC has worked here).
    std::chrono::microseconds tcpJobDelay() const;

private:
    struct Waiting {
        ClientRequest request;
        ResponseHandler *handler = nullptr;
        Clock::time_point since;
    };
    // Wraps the caller's handler so the pool can retry refused requests and add starvation.
    class Relay;
    struct Held {
        Waiting waiting;
        std::chrono::microseconds starvedFor{0};
        int retries = 0;
    };
    // A QUIC and a TCP connection started for the same requests; the first ready wins.
    struct Race {
        ClientConnection *quic = nullptr;   // null once failed
        ClientConnection *tcp = nullptr;    // null while held back, or once failed
        bool tcpStarted = false;
        QTimer *tcpTimer = nullptr;         // child; the hold-back
        std::deque<Held> held;
    };
    struct Alternative {
        quint16 port = 0;
        Clock::time_point expires;
    };

    // HTTP/2 and HTTP/3: one connection carries every request.
    bool multiplexed() const { return m_config.protocol != ClientProtocol::Http1; }
    ClientConnection *newConnection(ClientProtocol protocol, quint16 port);
    ClientConnection *usableConnection() const; // multiplexed, not in a race
    void startMultiplexed(Held &&held);
    void noteAltSvc(const ResponseHead &head);
    bool alternativeUsable() const;
    void startRace();
    void startTcpJob();
    void onTransportReady(ClientConnection *connection);
    void endRace(ClientConnection *winner);
    void raceConnectionClosed(ClientConnection *connection);
    void stopRace();
    void dispatch();
    void onConnectionClosed(ClientConnection *connection);
    void startOn(ClientConnection *connection, Waiting &&waiting, std::chrono::microseconds starvedFor, int retries);
    std::unique_ptr<Relay> takeRelay(Relay *relay);

    QHostAddress m_localAddress;
    Config m_config;
    QByteArray m_authority;
    std::vector<ClientConnection *> m_connections; // owned (children); deleted on close
    std::deque<Waiting> m_waiting;
    std::unordered_map<ResponseHandler *, std::unique_ptr<Relay>> m_running;
    std::uint64_t m_connectionsOpened = 0;
    std::shared_ptr<const tls::TlsContext> m_tls;
    std::shared_ptr<const quic::QuicTls> m_quic;
    tls::TlsSessionSlot m_tlsSessions;
    bool m_dispatching = false;
    std::optional<Race> m_race;
    std::optional<Alternative> m_alternative;
    Clock::time_point m_alternativeBrokenUntil{};
    bool m_quicWorked = false;
    std::chrono::microseconds m_quicSmoothedRtt{0};
    std::uint64_t m_racesStarted = 0;
    std::uint64_t m_racesWonByQuic = 0;
};

} // namespace edgesse::http
