#include "core/http/connectionpool.h"

#include "core/http/h2client.h"
#include "core/quic/h3client.h"
#include "core/http/http1client.h"

#include <algorithm>

namespace edgesse::http {

namespace {
constexpr int kMaxRefusedRetries = 3;
}

class ConnectionPool::Relay final : public ResponseHandler
{
public:
    Relay(ConnectionPool &pool, ClientRequest request, ResponseHandler *handler, ClientConnection *connection,
          std::chrono::microseconds starvedFor, int retries)
        : m_pool(pool), m_request(std::move(request)), m_handler(handler), m_connection(connection)
        , m_starvedFor(starvedFor), m_retries(retries)
    {
    }

    ClientConnection *connection() const { return m_connection; }

    void requestStarved(Clock::time_point since) override
    {
        if (!m_starvedReported) {
            m_starvedReported = true;
            m_handler->requestStarved(since);
        }
    }
    void requestStarted(const StartInfo &info) override
    {
        StartInfo adjusted = info;
        adjusted.starvedFor += m_starvedFor;
        m_handler->requestStarted(adjusted);
    }
    void responseHeadReceived(const ResponseHead &head) override
    {
        m_headSeen = true;
        m_handler->responseHeadReceived(head);
    }
    void responseDataReceived(const char *data, std::size_t size) override
    {
        m_handler->responseDataReceived(data, size);
    }
    void responseDataPlaced(const WirePlace &place) override { m_handler->responseDataPlaced(place); }
    void responseCompleted() override
    {
        auto self = m_pool.takeRelay(this);
        m_handler->responseCompleted();
    }
    void responseFailed(ClientError error, const QString &message) override
    {
        auto self = m_pool.takeRelay(this);
        if (error == ClientError::Refused && !m_headSeen && m_retries < kMaxRefusedRetries) {
            // The server did not process it (GOAWAY / REFUSED_STREAM): retry elsewhere.
            ConnectionPool &pool = m_pool;
            Waiting again{std::move(m_request), m_handler, Clock::now()};
            const auto starved = m_starvedFor;
            const int retries = m_retries + 1;
            self.reset();
            ClientConnection *connection = pool.multiplexed() ? pool.usableH2Connection() : nullptr;
            if (connection) {
                pool.startOn(connection, std::move(again), starved, retries);
            } else {
                pool.m_waiting.push_back(std::move(again));
                pool.dispatch();
            }
            return;
        }
        m_handler->responseFailed(error, message);
    }

private:
    ConnectionPool &m_pool;
    ClientRequest m_request;
    ResponseHandler *m_handler;
    ClientConnection *m_connection;
    std::chrono::microseconds m_starvedFor;
    int m_retries = 0;
    bool m_headSeen = false;
    bool m_starvedReported = false;
};

ConnectionPool::ConnectionPool(Config config, QObject *parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_authority(m_config.host.toUtf8() + ':' + QByteArray::number(m_config.port))
{
}

ConnectionPool::~ConnectionPool()
{
    for (ClientConnection *c : m_connections) {
        c->disconnect(this);
        delete c;
    }
    m_connections.clear();
}

QByteArray ConnectionPool::authority() const
{
    return m_authority;
}

int ConnectionPool::starvedCount() const
{
    int n = static_cast<int>(m_waiting.size());
    if (m_config.protocol == ClientProtocol::Http2) {
        for (ClientConnection *c : m_connections)
            n += static_cast<int>(static_cast<H2ClientConnection *>(c)->queuedRequests());
    } else if (m_config.protocol == ClientProtocol::Http3) {
        for (ClientConnection *c : m_connections)
            n += static_cast<int>(static_cast<quic::H3ClientConnection *>(c)->queuedRequests());
    }
    return n;
}

ClientConnection *ConnectionPool::newConnection()
{
    ClientConnection *c = nullptr;
    const ClientTls tls{m_tls.get(), &m_tlsSessions, m_config.tlsEarlyData};
    if (m_config.protocol == ClientProtocol::Http2) {
        auto *h2 = new H2ClientConnection(m_config.host, m_config.port, m_config.h2WindowBytes, tls, this, m_localAddress);
        h2->setStreamAssumptions(m_config.h2StreamsBeforeSettings, m_config.h2StreamCap);
        c = h2;
    } else if (m_config.protocol == ClientProtocol::Http3) {
        auto *h3 = new quic::H3ClientConnection(m_config.host, m_config.port, m_quic, this, m_localAddress);
        h3->setStreamCap(m_config.h2StreamCap);
        c = h3;
    } else
        c = new Http1ClientConnection(m_config.host, m_config.port, tls, this, m_localAddress);
    ++m_connectionsOpened;
    m_connections.push_back(c);
    connect(c, &ClientConnection::capacityFreed, this, &ConnectionPool::dispatch);
    connect(c, &ClientConnection::closed, this, [this, c] { onConnectionClosed(c); });
    return c;
}

ClientConnection *ConnectionPool::usableH2Connection()
{
    for (ClientConnection *c : m_connections) {
        if (c->isUsable())
            return c;
    }
    return newConnection();
}

void ConnectionPool::submit(const ClientRequest &request, ResponseHandler *handler)
{
    if (multiplexed()) {
        startOn(usableH2Connection(), Waiting{request, handler, Clock::now()}, std::chrono::microseconds(0), 0);
        return;
    }
    const auto now = Clock::now();
    m_waiting.push_back(Waiting{request, handler, now});
    dispatch();
    if (std::any_of(m_waiting.begin(), m_waiting.end(), [handler](const Waiting &w) { return w.handler == handler; }))
        handler->requestStarved(now);
}

void ConnectionPool::dispatch()
{
    if (m_dispatching || multiplexed())
        return;
    m_dispatching = true;
    while (!m_waiting.empty()) {
        ClientConnection *target = nullptr;
        for (ClientConnection *c : m_connections) {
            if (c->hasCapacity()) {
                target = c;
                break;
            }
        }
        if (!target && static_cast<int>(m_connections.size()) < m_config.maxConnections)
            target = newConnection();
        if (!target)
            break;
        Waiting w = std::move(m_waiting.front());
        m_waiting.pop_front();
        const auto starved = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - w.since);
        // Only a wait for a busy pool counts as starvation, not the dispatch itself.
        const bool wasStarved = starved > std::chrono::milliseconds(1);
        startOn(target, std::move(w), wasStarved ? starved : std::chrono::microseconds(0), 0);
    }
    m_dispatching = false;
}

void ConnectionPool::startOn(ClientConnection *connection, Waiting &&waiting, std::chrono::microseconds starvedFor, int retries)
{
    ResponseHandler *handler = waiting.handler;
    auto relay = std::make_unique<Relay>(*this, waiting.request, handler, connection, starvedFor, retries);
    Relay *raw = relay.get();
    m_running[handler] = std::move(relay);
    connection->submit(waiting.request, raw);
}

std::unique_ptr<ConnectionPool::Relay> ConnectionPool::takeRelay(Relay *relay)
{
    for (auto it = m_running.begin(); it != m_running.end(); ++it) {
        if (it->second.get() == relay) {
            auto owned = std::move(it->second);
            m_running.erase(it);
            return owned;
        }
    }
    return {};
}

void ConnectionPool::cancel(ResponseHandler *handler)
{
    auto w = std::find_if(m_waiting.begin(), m_waiting.end(), [handler](const Waiting &x) { return x.handler == handler; });
    if (w != m_waiting.end()) {
        m_waiting.erase(w);
        return;
    }
    auto it = m_running.find(handler);
    if (it == m_running.end())
        return;
    std::unique_ptr<Relay> relay = std::move(it->second);
    m_running.erase(it);
    relay->connection()->cancel(relay.get());
}

void ConnectionPool::closeAll()
{
    m_waiting.clear();
    const auto connections = m_connections;
    for (ClientConnection *c : connections)
        c->close();
}

void ConnectionPool::onConnectionClosed(ClientConnection *connection)
{
    auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it == m_connections.end())
        return;
    m_connections.erase(it);
    connection->disconnect(this);
    connection->deleteLater();
    dispatch();
}

} // namespace edgesse::http
