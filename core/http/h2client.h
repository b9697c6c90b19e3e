#pragma once

#include "core/http/clienttransport.h"
#include "core/http/httpclient.h"

#include <QAbstractSocket>
#include <QHostAddress>

#include <deque>
#include <memory>
#include <unordered_map>
#include <vector>

struct nghttp2_session;

namespace edgesse::http {

// An HTTP/2 client connection built on nghttp2 — h2c with prior knowledge, or h2 over TLS
// (ALPN) when `tls` has a context: many requests
// multiplexed on one TCP connection. It honours the server's SETTINGS_MAX_CONCURRENT_STREAMS
// — requests beyond it wait in a queue (reported as starved) and start as streams close —
// acknowledges received DATA explicitly (nghttp2_session_consume) so flow-control windows
// reopen as the handler takes the bytes, and on GOAWAY stops opening streams: requests the
// server did not process fail with ClientError::Refused so the pool can retry elsewhere.
// Bad frames from the peer end the connection with ClientError::Protocol.
class H2ClientConnection final : public ClientConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H2ClientConnection)

public:
    // `localWindowBytes` is what this client lets the server send before acknowledging
    // (per stream, and for the connection).
    H2ClientConnection(QString host, quint16 port, std::int32_t localWindowBytes = 1 << 20, ClientTls tls = {},
                       QObject *parent = nullptr, const QHostAddress &localAddress = {});
    ~H2ClientConnection() override;

    ClientProtocol protocol() const override { return ClientProtocol::Http2; }
    bool hasCapacity() const override;
    bool isUsable() const override { return !m_closing && !m_goAway; }
    std::size_t activeRequests() const override { return m_streams.size() + m_queue.size(); }
    void submit(const ClientRequest &request, ResponseHandler *handler) override;
    bool cancel(ResponseHandler *handler) override;
    void close() override;

    std::size_t openStreams() const { return m_streams.size(); }
    std::size_t queuedRequests() const { return m_queue.size(); }
    // Streams it opens at once: before the server's SETTINGS arrive, what the browser
    // assumes (Chromium: 100); then the server's SETTINGS_MAX_CONCURRENT_STREAMS, capped at
    // the browser's own limit (Chromium: 256). A server whose limit is lower refuses the
    // excess with REFUSED_STREAM, and the pool retries those requests.
    std::uint32_t streamLimit() const;
    void setStreamAssumptions(std::uint32_t beforeSettings, std::uint32_t cap)
    {
        m_streamsBeforeSettings = beforeSettings;
        m_streamCap = cap;
    }
    bool goAwayReceived() const { return m_goAway; }

    // nghttp2 callbacks (static trampolines in the .cpp).
    struct Callbacks;

private:
    struct Stream {
        ResponseHandler *handler = nullptr;
        ResponseHead head;
        bool headDelivered = false;
        bool completed = false;
    };
    struct Queued {
        ClientRequest request;
        ResponseHandler *handler = nullptr;
        Clock::time_point since;
        bool starvedReported = false;
    };

    void onConnected();
    void onReadyRead();
    void onDisconnected();
    void onError(QAbstractSocket::SocketError error);
    void startQueued();
    void startStream(Queued &&queued);
    void reportStart(std::int32_t id, std::chrono::microseconds starvedFor);
    void flush();
    void failAll(ClientError error, const QString &message);
    void shutDown();
    void checkDrained();

    QString m_host;
    quint16 m_port = 0;
    std::int32_t m_localWindow = 0;
    ClientTransport *m_socket = nullptr;
    nghttp2_session *m_session = nullptr;
    std::unordered_map<std::int32_t, Stream> m_streams;
    std::deque<Queued> m_queue;
    Clock::time_point m_connectStartedAt;
    std::chrono::microseconds m_connectTime{0};
    bool m_connectReported = false; // the first stream carries the connect time
    bool m_connected = false;
    bool m_settingsReceived = false;
    bool m_goAway = false;
    bool m_closing = false;
    bool m_closedEmitted = false;
    int m_inCallback = 0;           // >0 while nghttp2 is calling us: no teardown then
    bool m_freedDuringRecv = false; // a stream closed while nghttp2 was reading
    std::uint32_t m_goAwayError = 0;
    std::vector<std::int32_t> m_startsBeforeConnect; // opened before the connection was up
    std::uint32_t m_streamsBeforeSettings = 100;
    std::uint32_t m_streamCap = 256;
    QString m_lastError;            // nghttp2's description of the last session error
    std::uint64_t m_wireBytes = 0;  // received so far, this read's bytes included
    const std::uint8_t *m_recvStart = nullptr; // the buffer nghttp2 reads now (DATA points into it)
    std::size_t m_recvSize = 0;
    WirePlace m_place;              // the local end, set once connected (cleartext)
};

} // namespace edgesse::http
