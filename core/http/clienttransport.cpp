#include "core/http/clienttransport.h"

#include "core/tls/tlschannel.h"

#include <QNetworkProxy>
#include <QTcpSocket>

#include <cerrno>

namespace edgesse::http {

ClientTransport::ClientTransport(const ClientTls &tls, QByteArray alpn, QObject *parent)
    : QObject(parent)
    , m_socket(new QTcpSocket(this))
    , m_context(tls.context)
    , m_sessions(tls.sessions)
    , m_earlyData(tls.earlyData)
    , m_alpn(std::move(alpn))
{
    // Every peer is on this machine: never consult the system's proxy settings (a proxy
    // would change every figure, and looking them up starts a resolver thread of Qt's).
    m_socket->setProxy(QNetworkProxy::NoProxy);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_socket, &QTcpSocket::connected, this, &ClientTransport::onTcpConnected);
    connect(m_socket, &QTcpSocket::readyRead, this, &ClientTransport::onTcpReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &ClientTransport::disconnected);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &ClientTransport::onTcpError);
}

ClientTransport::~ClientTransport() = default;

void ClientTransport::connectToHost(const QString &host, quint16 port, const QHostAddress &localAddress)
{
    m_host = host;
    if (!localAddress.isNull())
        m_socket->bind(localAddress, 0);
    m_socket->connectToHost(host, port);
}

void ClientTransport::onTcpConnected()
{
    if (!m_context) {
        m_ready = true;
        emit connected();
        return;
    }
    m_tls = tls::TlsChannel::client(*m_context, m_host, m_alpn, m_sessions, m_earlyData);
    if (m_tls->acceptsEarlyData()) {
        m_ready = true;
        emit connected(); // the requests written now go with the ClientHello
    }
    m_tls->start();
    flushCiphertext();
}

void ClientTransport::onTcpError(QAbstractSocket::SocketError error)
{
    // Qt 6.4 says RemoteHostClosedError for a FIN (read() returned 0) and for a RST (read()
    // failed with ECONNRESET), and has closed the descriptor by now; errno is still what its
    // read() left. Cleared after, so a later FIN on this thread never sees this reset's errno.
    const int readError = errno;
    errno = 0;
    if (error == QAbstractSocket::RemoteHostClosedError && readError == ECONNRESET) {
        m_resetError = QStringLiteral("the connection to %1 was reset by the peer").arg(m_host);
        emit errorOccurred(QAbstractSocket::NetworkError);
        return;
    }
    emit errorOccurred(error);
}

void ClientTransport::onTcpReadyRead()
{
    if (!m_tls) {
        emit readyRead();
        return;
    }
    char buffer[16 * 1024];
    bool ok = true;
    while (ok && m_socket->bytesAvailable() > 0) {
        const qint64 n = m_socket->read(buffer, sizeof buffer);
        if (n <= 0)
            break;
        ok = m_tls->receive(buffer, n);
    }
    flushCiphertext();
    if (!ok) {
        tlsFailed(m_tls->handshakeComplete() ? QAbstractSocket::SslInternalError : QAbstractSocket::SslHandshakeFailedError);
        return;
    }
    if (!m_ready && m_tls->handshakeComplete()) {
        m_ready = true;
        emit connected();
    }
    if (m_tls && m_tls->plaintextAvailable() > 0)
        emit readyRead();
}

void ClientTransport::flushCiphertext()
{
    if (!m_tls)
        return;
    const QByteArray records = m_tls->takeCiphertext();
    if (!records.isEmpty())
        m_socket->write(records);
}

void ClientTransport::tlsFailed(QAbstractSocket::SocketError error)
{
    m_tlsError = QStringLiteral("TLS with %1: %2").arg(m_host, m_tls->errorString());
    m_socket->disconnect(this); // the failure is reported once, as this error
    m_socket->abort();
    emit errorOccurred(error);
}

QHostAddress ClientTransport::localAddress() const
{
    return m_socket->localAddress();
}

quint16 ClientTransport::localPort() const
{
    return m_socket->localPort();
}

qint64 ClientTransport::bytesAvailable() const
{
    return m_tls ? m_tls->plaintextAvailable() : m_socket->bytesAvailable();
}

qint64 ClientTransport::read(char *data, qint64 maxSize)
{
    return m_tls ? m_tls->readPlaintext(data, maxSize) : m_socket->read(data, maxSize);
}

qint64 ClientTransport::write(const char *data, qint64 size)
{
    if (!m_tls)
        return m_socket->write(data, size);
    if (!m_tls->send(data, size))
        return -1;
    flushCiphertext();
    return size;
}

void ClientTransport::abort()
{
    m_socket->abort();
}

QString ClientTransport::errorString() const
{
    if (!m_resetError.isEmpty())
        return m_resetError;
    return m_tlsError.isEmpty() ? m_socket->errorString() : m_tlsError;
}

QByteArray ClientTransport::alpn() const
{
    return m_tls && m_tls->handshakeComplete() ? m_tls->alpn() : QByteArray();
}

bool ClientTransport::sessionResumed() const
{
    if (!m_tls)
        return false;
    return m_tls->handshakeComplete() ? m_tls->sessionReused() : m_tls->sentEarlyData();
}

bool ClientTransport::sentEarlyData() const
{
    return m_tls && m_tls->sentEarlyData();
}

bool ClientTransport::earlyDataAccepted() const
{
    return m_tls && m_tls->handshakeComplete() && m_tls->sentEarlyData() && m_tls->earlyDataAccepted();
}

} // namespace edgesse::http
