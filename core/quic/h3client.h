#pragma once

#include "core/http/httpclient.h"

#include <QHostAddress>
#include <QString>

#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>

namespace edgesse::quic {

class QuicTls;
class H3ClientSession;

// An HTTP/3 client connection (QUIC over its own UDP socket, ngtcp2 + nghttp3, TLS 1.3 by
// GnuTLS): many requests multiplexed on one connection, each on its own QUIC stream, so a
// lost datagram delays only the streams whose data it carried. The handshake takes one
// round trip (TLS inside QUIC's first flight); requests are sent when it completes, each
// reporting that time as its connect time. The server's stream limit (initial_max_streams_bidi,
// raised by MAX_STREAMS), capped at the browser's own, bounds the requests in flight; the
// rest wait in a queue (reported as starved). Events reach the handlers after each
// datagram has been processed, never from inside ngtcp2 or nghttp3. Lives on the thread that
// created it; after closed() the owner deletes it (deleteLater).
class H3ClientConnection final : public http::ClientConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3ClientConnection)

public:
    H3ClientConnection(QString host, quint16 port, std::shared_ptr<const QuicTls> tls, QObject *parent = nullptr,
                       const QHostAddress &localAddress = {});
    ~H3ClientConnection() override;

    http::ClientProtocol protocol() const override { return http::ClientProtocol::Http3; }
    bool hasCapacity() const override;
    bool isUsable() const override { return !m_closing; }
    std::size_t activeRequests() const override { return m_streams.size() + m_queue.size(); }
    void submit(const http::ClientRequest &request, http::ResponseHandler *handler) override;
    bool cancel(http::ResponseHandler *handler) override;
    void close() override;

    // Streams opened at once never exceed `cap` (the browser profile's), whatever the server allows.
    void setStreamCap(std::uint32_t cap) { m_streamCap = cap; }
    std::size_t openStreams() const { return m_streams.size(); }
    std::size_t queuedRequests() const { return m_queue.size(); }
    bool handshakeCompleted() const;
    QString errorString() const { return m_lastError; }
    // Smoothed RTT, PTO count and bytes in flight as ngtcp2 has them now.
    std::chrono::microseconds smoothedRtt() const;

private:
    friend class H3ClientSession;
    struct Stream {
        http::ResponseHandler *handler = nullptr;
        http::ResponseHead head;
        QByteArray pending;      // body bytes received, not yet handed to the handler
        bool headReady = false;  // head complete, not yet handed over
        bool headDelivered = false;
        bool ended = false;      // the server's FIN arrived
        bool closed = false;     // QUIC closed the stream
        std::uint64_t appError = 0;
    };
    struct Queued {
        http::ClientRequest request;
        http::ResponseHandler *handler = nullptr;
        http::Clock::time_point since;
        bool starvedReported = false;
    };

    void onHandshakeDone();
    void onFinished();
    void startQueued();
    bool startStream(Queued &queued);
    void deliver();
    void deliverStream(std::int64_t id);
    void failAll(http::ClientError error, const QString &message);

    QString m_host;
    quint16 m_port = 0;
    std::unique_ptr<H3ClientSession> m_session;
    std::unordered_map<std::int64_t, Stream> m_streams;
    std::deque<Queued> m_queue;
    std::vector<std::int64_t> m_touched; // streams with events waiting for deliver()
    http::Clock::time_point m_connectStartedAt;
    std::chrono::microseconds m_connectTime{0};
    std::uint32_t m_streamCap = 256;
    bool m_closing = false;
    bool m_closedEmitted = false;
    bool m_delivering = false;
    QString m_lastError;
};

} // namespace edgesse::quic
