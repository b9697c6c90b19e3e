#include "core/http/serverconnection.h"

#include "core/http/cors.h"
#include "core/http/httpserversocket.h"
#include "core/net/deadlinequeue.h"

namespace edgesse::http {

ServerConnection::ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject,
                                   QObject *parent)
    : QObject(parent), m_context(context), m_socket(socket), m_reject(reject), m_counted(!reject)
{
    m_socket->setParent(this);
    connect(m_socket, &HttpServerSocket::disconnected, this, &ServerConnection::closeSoon);
}

ServerConnection::~ServerConnection()
{
    cancelDeadline();
}

HttpHeaders ServerConnection::rejectHeaders(const HttpRequest &request) const
{
    return withCors(request, {{"retry-after", QByteArray::number(limits().retryAfter.count())},
                              {"content-type", "text/plain; charset=utf-8"}});
}

QByteArray ServerConnection::rejectBody()
{
    return QByteArrayLiteral("The server is at its connection limit; retry later.\n");
}

qint64 ServerConnection::readSocket(char *buffer, qsizetype size)
{
    return m_socket->read(buffer, size);
}

void ServerConnection::countReceived(qint64 bytes)
{
    counters().bytesReceived.fetch_add(bytes, std::memory_order_relaxed);
}

void ServerConnection::countSent(qint64 bytes)
{
    counters().bytesSent.fetch_add(bytes, std::memory_order_relaxed);
}

void ServerConnection::reportQueued(qint64 queued)
{
    if (queued != m_reportedQueued) {
        counters().bytesQueued.fetch_add(queued - m_reportedQueued, std::memory_order_relaxed);
        m_reportedQueued = queued;
    }
}

void ServerConnection::armDeadline(std::chrono::milliseconds after, std::function<void()> expired)
{
    cancelDeadline();
    m_deadline = m_context.deadlines().scheduleAfter(after, [this, expired = std::move(expired)] {
        m_deadline = 0;
        expired();
    });
}

void ServerConnection::cancelDeadline()
{
    if (m_deadline != 0)
        m_context.deadlines().cancel(m_deadline);
    m_deadline = 0;
}

void ServerConnection::closeAfterWrite()
{
    if (m_closed || m_closing)
        return;
    m_closing = true;
    // A peer that never reads or never closes is cut off by the deadline.
    armDeadline(limits().headerTimeout, [this] { closeNow(); });
    m_socket->disconnectFromHost();
}

void ServerConnection::closeSoon()
{
    if (!m_closed)
        QMetaObject::invokeMethod(this, &ServerConnection::closeNow, Qt::QueuedConnection);
}

void ServerConnection::closeNow()
{
    if (m_closed)
        return;
    m_closed = true;
    cancelDeadline();
    abortExchanges();
    reportQueued(0);
    m_socket->disconnect(this);
    m_socket->abort();
    m_context.connectionFinished(*this);
}

HttpServerSocket *ServerConnection::releaseSocket()
{
    HttpServerSocket *socket = m_socket;
    m_socket = nullptr;
    m_closed = true;
    m_counted = false;
    cancelDeadline();
    reportQueued(0);
    socket->disconnect(this);
    socket->setParent(nullptr);
    m_context.connectionFinished(*this);
    return socket;
}

} // namespace edgesse::http
