#include "core/routing/pipe.h"

#include <QTcpSocket>

#include <sys/socket.h>

namespace edgesse::routing {

void abortive(QTcpSocket *socket)
{
    const auto fd = socket->socketDescriptor();
    if (fd >= 0) {
        const ::linger hard{1, 0};
        ::setsockopt(int(fd), SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    socket->abort();
}

Pipe::Pipe(QTcpSocket *client, QTcpSocket *backend, QByteArray pending, QObject *parent)
    : QObject(parent)
    , m_client(client)
    , m_backend(backend)
    , m_pending(std::move(pending))
{
    m_client->setParent(this);
    m_backend->setParent(this);
    m_client->setReadBufferSize(kHighWater);
    m_backend->setReadBufferSize(kHighWater);
    const auto backendUp = [this] {
        m_backendUp = true;
        if (!m_pending.isEmpty())
            m_backend->write(std::exchange(m_pending, {}));
        pump(m_client, m_backend);
        pump(m_backend, m_client);
    };
    connect(m_backend, &QTcpSocket::connected, this, backendUp);
    connect(m_client, &QTcpSocket::readyRead, this, [this] { pump(m_client, m_backend); });
    connect(m_backend, &QTcpSocket::readyRead, this, [this] { pump(m_backend, m_client); });
    connect(m_client, &QTcpSocket::bytesWritten, this, [this] { pump(m_backend, m_client); });
    connect(m_backend, &QTcpSocket::bytesWritten, this, [this] { pump(m_client, m_backend); });
    connect(m_client, &QTcpSocket::disconnected, this, &Pipe::sideClosed);
    connect(m_backend, &QTcpSocket::disconnected, this, &Pipe::sideClosed);
    connect(m_backend, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        // An instance that refuses or resets: the client sees the reset, as through a
        // balancer that does not retry.
        if (error != QAbstractSocket::RemoteHostClosedError)
            reset();
    });
    if (m_backend->state() == QAbstractSocket::ConnectedState)
        backendUp();
}

Pipe::~Pipe() = default;

void Pipe::pump(QTcpSocket *from, QTcpSocket *to)
{
    if (m_ended || !m_backendUp)
        return;
    while (from->bytesAvailable() > 0 && to->bytesToWrite() < kHighWater) {
        const QByteArray chunk = from->read(64 * 1024);
        if (chunk.isEmpty())
            break;
        to->write(chunk);
    }
}

void Pipe::sideClosed()
{
    if (m_ended)
        return;
    QTcpSocket *closed = m_client->state() == QAbstractSocket::UnconnectedState ? m_client : m_backend;
    QTcpSocket *other = closed == m_client ? m_backend : m_client;
    pump(closed, other);
    if (other->state() == QAbstractSocket::ConnectedState) {
        other->disconnectFromHost();
        if (other->state() != QAbstractSocket::UnconnectedState)
            return; // disconnected() follows once its queue is written
    } else if (other->state() != QAbstractSocket::UnconnectedState) {
        other->abort(); // still connecting: nothing to pass on
    }
    finish();
}

void Pipe::reset()
{
    if (m_ended)
        return;
    abortive(m_client);
    abortive(m_backend);
    finish();
}

void Pipe::close()
{
    if (m_ended)
        return;
    m_client->disconnectFromHost();
    m_backend->disconnectFromHost();
    if (m_client->state() == QAbstractSocket::UnconnectedState && m_backend->state() == QAbstractSocket::UnconnectedState)
        finish();
}

void Pipe::finish()
{
    if (m_ended)
        return;
    m_ended = true;
    emit ended();
}

} // namespace edgesse::routing
