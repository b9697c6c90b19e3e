#include "core/http/httpserver.h"

#include "core/http/h2serverconnection.h"
#include "core/http/http1serverconnection.h"
#include "core/net/deadlinequeue.h"

#include <QTcpServer>
#include "core/http/httpserversocket.h"

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
    qDeleteAll(findChildren<Http1ServerConnection *>(Qt::FindDirectChildrenOnly));
    qDeleteAll(findChildren<H2ServerConnection *>(Qt::FindDirectChildrenOnly));
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
    m_counters->connectionsTotal.fetch_add(1, std::memory_order_relaxed);
    const bool reject = m_limits.maxConnections > 0
        && m_counters->connectionsOpen.load(std::memory_order_relaxed) >= m_limits.maxConnections;
    if (reject) {
        m_counters->connectionsRejected.fetch_add(1, std::memory_order_relaxed);
    } else {
        const qint64 open = m_counters->connectionsOpen.fetch_add(1, std::memory_order_relaxed) + 1;
        qint64 max = m_counters->connectionsMax.load(std::memory_order_relaxed);
        while (open > max && !m_counters->connectionsMax.compare_exchange_weak(max, open, std::memory_order_relaxed)) {
        }
    }
    new Http1ServerConnection(*this, socket, reject);
}

void HttpServer::startHttp2(HttpServerSocket *socket, QByteArray received, bool reject)
{
    m_counters->http2Connections.fetch_add(1, std::memory_order_relaxed);
    auto *connection = new H2ServerConnection(*this, socket, reject);
    connection->start(received);
}

void HttpServer::connectionFinished(QObject *connection, bool counted)
{
    if (counted)
        m_counters->connectionsOpen.fetch_sub(1, std::memory_order_relaxed);
    if (auto *h2 = qobject_cast<H2ServerConnection *>(connection))
        m_dirty.erase(std::remove(m_dirty.begin(), m_dirty.end(), h2), m_dirty.end());
    connection->deleteLater();
}

void HttpServer::h2NeedsFlush(H2ServerConnection *connection)
{
    m_dirty.push_back(connection);
    if (!m_flushQueued) {
        m_flushQueued = true;
        QMetaObject::invokeMethod(this, &HttpServer::flush, Qt::QueuedConnection);
    }
}

void HttpServer::flush()
{
    m_flushQueued = false;
    std::vector<H2ServerConnection *> dirty;
    dirty.swap(m_dirty);
    for (H2ServerConnection *connection : dirty)
        connection->flush();
}

void HttpServer::close()
{
    if (m_closing)
        return;
    m_closing = true;
    m_listener->close();
    for (auto *c : findChildren<Http1ServerConnection *>(Qt::FindDirectChildrenOnly))
        c->shutdown();
    for (auto *c : findChildren<H2ServerConnection *>(Qt::FindDirectChildrenOnly))
        c->shutdown();
    m_dirty.clear();
}

} // namespace edgesse::http
