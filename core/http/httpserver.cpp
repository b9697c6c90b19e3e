#include "core/http/httpserver.h"

#include "core/http/h2serverconnection.h"
#include "core/http/http1serverconnection.h"
#include "core/http/httpserversocket.h"
#include "core/http/protocoldetector.h"
#include "core/net/deadlinequeue.h"

#include <QTcpServer>

#include <algorithm>

namespace edgesse::http {

// Hands accepted descriptors to HttpServerSocket (direct writes, no per-socket buffers
// while idle) rather than to QTcpSocket.
class HttpServer::Listener final : public QTcpServer
{
public:
    explicit Listener(HttpServer &server) : QTcpServer(&server), m_server(server) {}

protected:
    void incomingConnection(qintptr descriptor) override { m_server.accepted(descriptor); }

private:
    HttpServer &m_server;
};

HttpServer::HttpServer(const ServerLimits &limits, RequestHandler *handler, ServerCounters *counters,
                       QObject *parent)
    : QObject(parent)
    , m_limits(limits)
    , m_handler(handler)
    , m_counters(counters)
    , m_deadlines(std::make_unique<net::DeadlineQueue>())
    , m_listener(new Listener(*this))
{
    m_listener->setListenBacklogSize(limits.listenBacklog);
}

HttpServer::~HttpServer()
{
    close();
    // Connections are children; they cancel their deadlines while the queue still exists.
    qDeleteAll(findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly));
}

bool HttpServer::listen(const QHostAddress &address, quint16 port)
{
    m_closing = false;
    return m_listener->listen(address, port);
}

quint16 HttpServer::port() const
{
    return m_listener->serverPort();
}

QString HttpServer::errorString() const
{
    return m_listener->errorString();
}

void HttpServer::accepted(qintptr descriptor)
{
    auto *socket = new HttpServerSocket(descriptor);
    const bool reject = !admit();
    new ProtocolDetector(*this, socket, reject, this);
}

// Counts the connection in; false when it is over the cap (it is answered 503).
bool HttpServer::admit()
{
    m_counters->connectionsTotal.fetch_add(1, std::memory_order_relaxed);
    if (m_limits.maxConnections > 0
        && m_counters->connectionsOpen.load(std::memory_order_relaxed) >= m_limits.maxConnections) {
        m_counters->connectionsRejected.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    const qint64 open = m_counters->connectionsOpen.fetch_add(1, std::memory_order_relaxed) + 1;
    qint64 max = m_counters->connectionsMax.load(std::memory_order_relaxed);
    while (open > max && !m_counters->connectionsMax.compare_exchange_weak(max, open, std::memory_order_relaxed)) {
    }
    return true;
}

void HttpServer::protocolDetected(HttpServerSocket *socket, DetectedProtocol detected, bool reject)
{
    ServerConnection *connection = nullptr;
    if (detected.protocol == WireProtocol::Http2)
        connection = new H2ServerConnection(*this, socket, reject, this);
    else
        connection = new Http1ServerConnection(*this, socket, reject, this);
    connection->start(detected);
}

void HttpServer::connectionFinished(ServerConnection &connection)
{
    if (connection.counted())
        m_counters->connectionsOpen.fetch_sub(1, std::memory_order_relaxed);
    m_dirty.erase(std::remove(m_dirty.begin(), m_dirty.end(), &connection), m_dirty.end());
    connection.deleteLater();
}

void HttpServer::flushRequested(ServerConnection &connection)
{
    m_dirty.push_back(&connection);
    if (!m_flushQueued) {
        m_flushQueued = true;
        QMetaObject::invokeMethod(this, &HttpServer::flush, Qt::QueuedConnection);
    }
}

void HttpServer::flush()
{
    m_flushQueued = false;
    std::vector<ServerConnection *> dirty;
    dirty.swap(m_dirty);
    for (ServerConnection *connection : dirty)
        connection->flush();
}

void HttpServer::close()
{
    if (m_closing)
        return;
    m_closing = true;
    m_listener->close();
    for (auto *c : findChildren<ServerConnection *>(Qt::FindDirectChildrenOnly))
        c->shutdown();
    m_dirty.clear();
}

} // namespace edgesse::http
