#pragma once

#include "core/http/connectionpool.h"
#include "core/tls/tlscontext.h"
#include "core/sse/browserprofile.h"
#include "core/sse/eventsource.h"

#include <QObject>

#include <memory>
#include <vector>

namespace edgesse::sse {

// A simulated browser: `streams` EventSources to one origin sharing one connection pool —
// at most 6 connections on HTTP/1.1 (further streams are starved until one frees), one
// multiplexed connection on HTTP/2 up to the server's SETTINGS_MAX_CONCURRENT_STREAMS.
// Stream i reports to the observer with tag firstStreamTag + i.
class Browser final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Browser)

public:
    struct Config {
        QString host = QStringLiteral("127.0.0.1");
        quint16 port = 0;
        http::ClientProtocol protocol = http::ClientProtocol::Http1;
        // HTTP/2 first, HTTP/3 once Alt-Svc names it (http::ConnectionPool, needs `quic`).
        bool altSvcDiscovery = false;
        int streams = 1;
        int maxConnectionsPerOrigin = 6;
        std::uint32_t h2StreamsBeforeSettings = 100;
        std::uint32_t h2StreamCap = 256;
        bool tlsEarlyData = false; // TLS 1.3 early data on resumed sessions (ConnectionPool::Config)
        EventSourceConfig stream;       // shared by every stream (seed varies by tag)
        std::uint64_t firstStreamTag = 0;
        // HTTPS to the origin (h2 or http/1.1 by ALPN); null for cleartext.
        std::shared_ptr<const tls::TlsContext> tls;
        // What HTTP/3 trusts (protocol Http3: QUIC is always TLS).
        std::shared_ptr<const quic::QuicTls> quic;
        QHostAddress localAddress; // this browser's own source address (null: any)

        // Everything the profile decides: connections per host, HTTP/2 stream assumptions,
        // the default and least reconnection time, what fails a stream.
        void applyProfile(const BrowserProfile &profile);
    };

    Browser(Config config, net::DeadlineQueue &timers, StreamObserver *observer, QObject *parent = nullptr);
    ~Browser() override;

    void open();
    void close();

    int streamCount() const { return static_cast<int>(m_streams.size()); }
    EventSource &stream(int i) { return *m_streams[static_cast<std::size_t>(i)]; }
    const http::ConnectionPool &pool() const { return *m_pool; }

    // Streams whose response is open (200, text/event-stream) and flowing.
    int openCount() const;
    // Streams waiting for a connection or a stream slot.
    int starvedCount() const;

private:
    Config m_config;
    http::ConnectionPool *m_pool = nullptr; // child
    std::vector<std::unique_ptr<EventSource>> m_streams;
};

} // namespace edgesse::sse
