#pragma once

#include "core/http/httpserverexchange.h"
#include "core/http/serverconnection.h"
#include "core/http/serverlimits.h"

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>


namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::http {

// HTTP/1.1 and HTTP/2 (h2c with prior knowledge) on one listening port; the protocol is
// chosen at accept from the first bytes (the 24-byte HTTP/2 connection preface). Lives in
// one thread (any event dispatcher); every connection it accepts is served there, and sees
// the server only as its ConnectionContext.
class HttpServer final : public QObject, private ConnectionContext
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServer)

public:
    HttpServer(const ServerLimits &limits, RequestHandler *handler, ServerCounters *counters,
               QObject *parent = nullptr);
    ~HttpServer() override;

    // Serves TLS (told from cleartext by the first byte) with this certificate. Before listen().
    void setTls(std::shared_ptr<const tls::TlsContext> context) { m_tls = std::move(context); }
    bool listen(const QHostAddress &address, quint16 port);
    quint16 port() const;
    QString errorString() const;

    // Sends what HTTP/2 streams have queued since the last flush, one write per connection.
    // Call after a fan-out loop; a queued call does it anyway if nobody does.
    void flush();
    // Stops listening; HTTP/2 connections get GOAWAY, every connection is closed and every
    // unfinished exchange aborted.
    void close();

    const ServerLimits &limits() const override { return m_limits; }
    ServerCounters &counters() const override { return *m_counters; }
    net::DeadlineQueue &deadlines() const override { return *m_deadlines; }

private:
    class Listener;
    void accepted(qintptr descriptor);
    bool admit();

    RequestHandler &handler() const override { return *m_handler; }
    const tls::TlsContext *tls() const override { return m_tls.get(); }
    void flushRequested(ServerConnection &connection) override;
    void connectionFinished(ServerConnection &connection) override;
    void protocolDetected(HttpServerSocket *socket, DetectedProtocol detected, bool reject) override;

    ServerLimits m_limits;
    RequestHandler *m_handler = nullptr;
    ServerCounters *m_counters = nullptr;
    std::unique_ptr<net::DeadlineQueue> m_deadlines;
    std::shared_ptr<const tls::TlsContext> m_tls;
    Listener *m_listener = nullptr;
    std::vector<ServerConnection *> m_dirty;
    bool m_flushQueued = false;
    bool m_closing = false;
};

} // namespace edgesse::http
