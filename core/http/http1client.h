#pragma once

#include "core/http/clienttransport.h"
#include "core/http/httpclient.h"

#include <QAbstractSocket>
#include <QHostAddress>

#include <memory>

namespace edgesse::http {

// An HTTP/1.1 client connection: one request at a time (no pipelining), keep-alive, and
// responses parsed by Boost.Beast's parser (fed with put(); over a ClientTransport: TCP,
// or TLS with ALPN http/1.1 when `tls` has a context).
// Bodies may be Content-Length, chunked or close-delimited. A malformed response fails
// the request with ClientError::Protocol and closes the connection.
class Http1ClientConnection final : public ClientConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Http1ClientConnection)

public:
    Http1ClientConnection(QString host, quint16 port, ClientTls tls = {}, QObject *parent = nullptr,
                          const QHostAddress &localAddress = {});
    ~Http1ClientConnection() override;

    ClientProtocol protocol() const override { return ClientProtocol::Http1; }
    bool hasCapacity() const override { return isUsable() && !m_handler; }
    bool isUsable() const override { return !m_closing; }
    std::size_t activeRequests() const override { return m_handler ? 1 : 0; }
    void submit(const ClientRequest &request, ResponseHandler *handler) override;
    bool cancel(ResponseHandler *handler) override;
    void close() override;

    bool isConnected() const;
    std::uint64_t responsesCompleted() const { return m_responsesCompleted; }

private:
    class Parser;

    void onConnected();
    void onReadyRead();
    void onDisconnected();
    void onError(QAbstractSocket::SocketError error);
    void writeRequest();
    void feed(const char *data, std::size_t size);
    void deliverHead(const ResponseHead &head);
    void deliverBody(const char *data, std::size_t size);
    void finishResponse();
    void fail(ClientError error, const QString &message);
    void shutDown();

    QString m_host;
    QHostAddress m_localAddress;
    quint16 m_port = 0;
    ClientTls m_tls;
    ClientTransport *m_socket = nullptr;
    std::unique_ptr<Parser> m_parser;
    QByteArray m_in;               // bytes Beast has not consumed yet (a partial header)
    QByteArray m_pendingRequest;   // serialised, written once connected
    ResponseHandler *m_handler = nullptr;
    Clock::time_point m_connectStartedAt;
    std::chrono::microseconds m_connectTime{0};
    std::uint64_t m_responsesCompleted = 0;
    std::uint64_t m_responseBytes = 0;   // bytes of the current response so far
    std::uint64_t m_wireBytes = 0;       // bytes the connection received, every response
    const char *m_feedStart = nullptr;   // the buffer Beast parses now, and its first byte's
    std::size_t m_feedSize = 0;          // offset among m_wireBytes
    std::uint64_t m_feedOffset = 0;
    WirePlace m_place;                   // the local end, set once connected (cleartext)
    bool m_reusedForRequest = false;     // the current request went on a kept-alive connection
    bool m_connected = false;
    bool m_closing = false;
    bool m_closedEmitted = false;
    bool m_inFeed = false;         // inside Beast's put(): the parser must not be destroyed
};

} // namespace edgesse::http
