#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

#include <chrono>
#include <cstdint>
#include <vector>

// Client side of HTTP: the request/response vocabulary shared by the HTTP/1.1 and HTTP/2
// client connections and the connection pool.
namespace edgesse::http {

using Clock = std::chrono::steady_clock;

enum class ClientProtocol : std::uint8_t { Http1, Http2, Http3 };

struct Header {
    QByteArray name;  // lower case on HTTP/2; as received on HTTP/1.1
    QByteArray value;
};

struct ClientRequest {
    QByteArray method = "GET";
    QByteArray path = "/";      // origin-form: path and query
    QByteArray authority;       // Host / :authority
    std::vector<Header> headers;
};

struct ResponseHead {
    int status = 0;
    std::vector<Header> headers;
    // The first value of `name` (case-insensitive), or an empty array.
    QByteArray header(const QByteArray &name) const;
};

enum class ClientError : std::uint8_t {
    ConnectFailed,     // TCP connect refused / unreachable
    ConnectionClosed,  // peer closed (FIN) before the response was complete
    ConnectionReset,   // RST or another socket error mid-response
    Protocol,          // malformed response or bad HTTP/2 frames
    Refused,           // not processed (HTTP/2 GOAWAY / REFUSED_STREAM, or a kept-alive HTTP/1.1
                       // connection closed under the request): safe to retry
    StreamReset,       // HTTP/2 RST_STREAM with an error code
};

const char *clientErrorName(ClientError error);

struct StartInfo {
    ClientProtocol protocol = ClientProtocol::Http1;
    bool reusedConnection = false;
    std::chrono::microseconds connectTime{0};
    std::chrono::microseconds starvedFor{0};
    Clock::time_point requestSentAt;
    bool tls = false;        // the connection is HTTPS
    // ... on a resumed TLS session (known once the handshake is done: an HTTP/2 stream opened
    // before that reports false).
    bool tlsResumed = false;
};

// Where response bytes lay on their connection: its local IPv4 address and port, and the
// offset of the first byte among every byte the connection received (heads and earlier
// responses included), as a link in front counts them. Cleartext only: with TLS the wire
// carries ciphertext, and nothing is placed.
struct WirePlace {
    quint32 localIPv4 = 0;
    quint16 localPort = 0;
    std::uint64_t offset = 0;
};

// What a request reports, on the owning thread. After responseCompleted or responseFailed
// nothing more is called for that request. A handler may cancel its own request (through
// the pool) from inside any callback.
class ResponseHandler
{
public:
    virtual ~ResponseHandler() = default;
    // The request waits: no free connection (HTTP/1.1) or stream slot (HTTP/2).
    virtual void requestStarved(Clock::time_point since) { (void)since; }
    // The request was written (or queued for writing) on a connection.
    virtual void requestStarted(const StartInfo &info) { (void)info; }
    virtual void responseHeadReceived(const ResponseHead &head) = 0;
    virtual void responseDataReceived(const char *data, std::size_t size) = 0;
    // Just before responseDataReceived: where its first byte lay (cleartext connections).
    virtual void responseDataPlaced(const WirePlace &place) { (void)place; }
    virtual void responseCompleted() = 0;
    virtual void responseFailed(ClientError error, const QString &message) = 0;
};

// One client connection to one origin. Connections live on the thread that created them.
class ClientConnection : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    virtual ClientProtocol protocol() const = 0;
    // True when submit() would start the request at once (no queueing).
    virtual bool hasCapacity() const = 0;
    // False once the connection is closing (GOAWAY, error, close): submit nothing more.
    virtual bool isUsable() const = 0;
    virtual std::size_t activeRequests() const = 0;
    // Starts (or, on HTTP/2 beyond the server's stream limit, queues) a request.
    virtual void submit(const ClientRequest &request, ResponseHandler *handler) = 0;
    // Stops a request quietly (no further callbacks). True when the handler was known.
    virtual bool cancel(ResponseHandler *handler) = 0;
    // Closes the connection; requests still running fail with ConnectionClosed.
    virtual void close() = 0;

signals:
    // The connection can carry requests: TCP (and TLS) up, or the QUIC handshake done.
    void transportReady();
    // A request finished and the connection can carry another one.
    void capacityFreed();
    // The connection is gone; the owner may delete it (deleteLater).
    void closed();
};

} // namespace edgesse::http
