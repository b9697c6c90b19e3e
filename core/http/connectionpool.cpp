#include "core/http/connectionpool.h"

#include "core/http/altsvc.h"
#include "core/http/h2client.h"
#include "core/quic/h3client.h"
#include "core/http/http1client.h"

#include <QTimer>

#include <algorithm>

namespace edgesse::http {

namespace {
constexpr int kMaxRefusedRetries = 3;
// Chromium: the TCP job waits 1.5 × SRTT, 300 ms without one; a broken alternative rests 5 min.
constexpr std::chrono::milliseconds kDefaultTcpJobDelay{300};
constexpr std::chrono::minutes kAlternativeBrokenFor{5};
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
        m_pool.noteAltSvc(head);
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
            if (pool.multiplexed()) {
                pool.startMultiplexed(Held{std::move(again), starved, retries});
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
    stopRace();
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
    if (m_race)
        n += static_cast<int>(m_race->held.size());
    for (ClientConnection *c : m_connections) {
        if (c->protocol() == ClientProtocol::Http2)
            n += static_cast<int>(static_cast<H2ClientConnection *>(c)->queuedRequests());
        else if (c->protocol() == ClientProtocol::Http3)
            n += static_cast<int>(static_cast<quic::H3ClientConnection *>(c)->queuedRequests());
    }
    return n;
}

ClientConnection *ConnectionPool::newConnection(ClientProtocol protocol, quint16 port)
{
    ClientConnection *c = nullptr;
    const ClientTls tls{m_tls.get(), &m_tlsSessions, m_config.tlsEarlyData};
    if (protocol == ClientProtocol::Http2) {
        auto *h2 = new H2ClientConnection(m_config.host, port, m_config.h2WindowBytes, tls, this, m_localAddress);
        h2->setStreamAssumptions(m_config.h2StreamsBeforeSettings, m_config.h2StreamCap);
        c = h2;
    } else if (protocol == ClientProtocol::Http3) {
        auto *h3 = new quic::H3ClientConnection(m_config.host, port, m_quic, this, m_localAddress);
        h3->setStreamCap(m_config.h2StreamCap);
        c = h3;
    } else
        c = new Http1ClientConnection(m_config.host, port, tls, this, m_localAddress);
    ++m_connectionsOpened;
    m_connections.push_back(c);
    connect(c, &ClientConnection::capacityFreed, this, &ConnectionPool::dispatch);
    connect(c, &ClientConnection::transportReady, this, [this, c] { onTransportReady(c); });
    connect(c, &ClientConnection::closed, this, [this, c] { onConnectionClosed(c); });
    return c;
}

ClientConnection *ConnectionPool::usableConnection() const
{
    for (ClientConnection *c : m_connections) {
        if (c->isUsable() && !(m_race && (c == m_race->quic || c == m_race->tcp)))
            return c;
    }
    return nullptr;
}

void ConnectionPool::startMultiplexed(Held &&held)
{
    if (ClientConnection *c = usableConnection()) {
        startOn(c, std::move(held.waiting), held.starvedFor, held.retries);
        return;
    }
    if (!m_race && alternativeUsable())
        startRace();
    if (m_race) {
        m_race->held.push_back(std::move(held));
        return;
    }
    startOn(newConnection(m_config.protocol, m_config.port), std::move(held.waiting), held.starvedFor, held.retries);
}

void ConnectionPool::noteAltSvc(const ResponseHead &head)
{
    if (!m_config.altSvcDiscovery || !m_tls) // as browsers: from HTTPS origins only
        return;
    const QByteArray value = head.header("alt-svc");
    if (value.isEmpty())
        return;
    const AltSvcField field = parseAltSvc(value);
    if (field.clear)
        m_alternative.reset();
    else if (field.h3 && (field.h3->host.isEmpty() || field.h3->host == m_config.host.toUtf8()))
        m_alternative = Alternative{field.h3->port, Clock::now() + field.h3->maxAge};
}

bool ConnectionPool::alternativeUsable() const
{
    const auto now = Clock::now();
    return m_config.altSvcDiscovery && m_quic && m_alternative && now < m_alternative->expires &&
           now >= m_alternativeBrokenUntil;
}

std::chrono::microseconds ConnectionPool::tcpJobDelay() const
{
    if (!m_quicWorked)
        return std::chrono::microseconds(0);
    if (m_quicSmoothedRtt.count() <= 0)
        return kDefaultTcpJobDelay;
    return m_quicSmoothedRtt * 3 / 2;
}

void ConnectionPool::startRace()
{
    ++m_racesStarted;
    m_race.emplace(Race{}); // not emplace(): clang 14 cannot see Race default-constructible inside the class
    m_race->quic = newConnection(ClientProtocol::Http3, m_alternative->port);
    const auto delay = tcpJobDelay();
    if (delay.count() == 0) {
        startTcpJob();
        return;
    }
    m_race->tcpTimer = new QTimer(this);
    m_race->tcpTimer->setSingleShot(true);
    m_race->tcpTimer->setTimerType(Qt::PreciseTimer);
    connect(m_race->tcpTimer, &QTimer::timeout, this, &ConnectionPool::startTcpJob);
    m_race->tcpTimer->start(std::chrono::duration_cast<std::chrono::milliseconds>(delay));
}

void ConnectionPool::startTcpJob()
{
    if (!m_race || m_race->tcpStarted)
        return;
    m_race->tcpStarted = true;
    if (m_race->tcpTimer)
        m_race->tcpTimer->stop();
    m_race->tcp = newConnection(m_config.protocol, m_config.port);
}

void ConnectionPool::onTransportReady(ClientConnection *connection)
{
    if (m_race && (connection == m_race->quic || connection == m_race->tcp))
        endRace(connection);
}

void ConnectionPool::endRace(ClientConnection *winner)
{
    std::deque<Held> held = std::move(m_race->held);
    ClientConnection *loser = winner == m_race->quic ? m_race->tcp : m_race->quic;
    if (winner == m_race->quic) {
        m_quicWorked = true;
        ++m_racesWonByQuic;
    }
    stopRace();
    for (Held &h : held)
        startOn(winner, std::move(h.waiting), h.starvedFor, h.retries);
    if (loser)
        loser->close();
}

// A connection of the race failed: QUIC's marks the alternative broken and lets TCP go at
// once; when both have failed, the requests fail as a failed connect would fail them.
void ConnectionPool::raceConnectionClosed(ClientConnection *connection)
{
    if (connection == m_race->quic) {
        m_race->quic = nullptr;
        m_alternativeBrokenUntil = Clock::now() + kAlternativeBrokenFor;
        startTcpJob();
    } else {
        m_race->tcp = nullptr;
    }
    if (m_race->quic || m_race->tcp)
        return;
    std::deque<Held> held = std::move(m_race->held);
    stopRace();
    for (Held &h : held)
        h.waiting.handler->responseFailed(ClientError::ConnectFailed,
                                          QStringLiteral("neither HTTP/3 (port %1) nor TCP (port %2) could connect to %3")
                                              .arg(m_alternative ? m_alternative->port : 0)
                                              .arg(m_config.port)
                                              .arg(m_config.host));
}

void ConnectionPool::stopRace()
{
    if (!m_race)
        return;
    if (m_race->tcpTimer) {
        m_race->tcpTimer->stop();
        m_race->tcpTimer->deleteLater();
    }
    m_race.reset();
}

void ConnectionPool::submit(const ClientRequest &request, ResponseHandler *handler)
{
    if (multiplexed()) {
        startMultiplexed(Held{Waiting{request, handler, Clock::now()}, std::chrono::microseconds(0), 0});
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
            target = newConnection(m_config.protocol, m_config.port);
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
    if (m_race) {
        auto &held = m_race->held;
        auto h = std::find_if(held.begin(), held.end(), [handler](const Held &x) { return x.waiting.handler == handler; });
        if (h != held.end()) {
            held.erase(h);
            return;
        }
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
    stopRace();
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
    if (connection->protocol() == ClientProtocol::Http3) {
        const auto srtt = static_cast<quic::H3ClientConnection *>(connection)->smoothedRtt();
        if (srtt.count() > 0 && static_cast<quic::H3ClientConnection *>(connection)->handshakeCompleted())
            m_quicSmoothedRtt = srtt;
    }
    if (m_race && (connection == m_race->quic || connection == m_race->tcp))
        raceConnectionClosed(connection);
    dispatch();
}

} // namespace edgesse::http
