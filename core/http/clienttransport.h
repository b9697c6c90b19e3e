#pragma once

#include <QAbstractSocket>
#include <QByteArray>
#include <QHostAddress>
#include <QObject>

#include <memory>

class QTcpSocket;

namespace edgesse::tls {
class TlsChannel;
class TlsContext;
class TlsSessionSlot;
}

namespace edgesse::http {

// TLS for a client connection: the context (trusted CA) and where the connection's origin
// keeps its resumable session (may be null: no resumption). `earlyData`: a connection
// resuming a session whose ticket allows it sends its first requests as TLS 1.3 early data.
struct ClientTls {
    const tls::TlsContext *context = nullptr;
    tls::TlsSessionSlot *sessions = nullptr;
    bool earlyData = false;
};

// A client connection's byte stream: a QTcpSocket, with TLS on top when given a context.
// connected() means ready for requests (TCP up, and the TLS handshake complete — or, with
// early data, TCP up: what is written in connected() goes with the ClientHello); read()
// and write() carry plaintext. A TLS failure (untrusted certificate, bad record) is
// reported as errorOccurred(SslHandshakeFailedError or SslInternalError). The peer's orderly
// close (FIN) is errorOccurred(RemoteHostClosedError), as Qt says it; a reset (RST), which
// Qt 6.4 reports the same way, is told apart by the ECONNRESET its read() left in errno and
// reported as errorOccurred(NetworkError), errorString() saying "reset".
class ClientTransport final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ClientTransport)

public:
    // `alpn` in wire format; ignored without TLS.
    ClientTransport(const ClientTls &tls, QByteArray alpn, QObject *parent = nullptr);
    ~ClientTransport() override;

    // `localAddress`: the source address to bind first (null: the system's choice).
    void connectToHost(const QString &host, quint16 port, const QHostAddress &localAddress = {});
    qint64 bytesAvailable() const;
    qint64 read(char *data, qint64 maxSize);
    qint64 write(const char *data, qint64 size);
    qint64 write(const QByteArray &bytes) { return write(bytes.constData(), bytes.size()); }
    void abort();
    QString errorString() const;

    bool isTls() const { return m_context != nullptr; }
    // The connection's own end (a null address and 0 before it connected).
    QHostAddress localAddress() const;
    quint16 localPort() const;
    // After connected(): the protocol ALPN agreed on, and whether a session was resumed (with
    // early data before the server answered: the session was offered).
    QByteArray alpn() const;
    bool sessionResumed() const;
    // Requests went as early data; after the handshake, that the server accepted them.
    bool sentEarlyData() const;
    bool earlyDataAccepted() const;

signals:
    void connected();
    void readyRead();
    void disconnected();
    void errorOccurred(QAbstractSocket::SocketError error);

private:
    void onTcpConnected();
    void onTcpError(QAbstractSocket::SocketError error);
    void onTcpReadyRead();
    void flushCiphertext();
    void tlsFailed(QAbstractSocket::SocketError error);

    QTcpSocket *m_socket = nullptr;
    const tls::TlsContext *m_context = nullptr;
    tls::TlsSessionSlot *m_sessions = nullptr;
    bool m_earlyData = false;
    QByteArray m_alpn;
    QString m_host;
    std::unique_ptr<tls::TlsChannel> m_tls;
    QString m_tlsError;
    QString m_resetError;
    bool m_ready = false;
};

} // namespace edgesse::http
