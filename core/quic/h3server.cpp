#include "core/quic/h3server.h"

#include "core/http/cors.h"
#include "core/quic/h3connection.h"
#include "core/quic/quictls.h"
#include "core/quic/udpsocket.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>
#include <deque>

namespace edgesse::quic {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr std::size_t kCidBytes = 18;

nghttp3_nv makeNv(const QByteArray &name, const QByteArray &value)
{
    return {reinterpret_cast<uint8_t *>(const_cast<char *>(name.constData())),
            reinterpret_cast<uint8_t *>(const_cast<char *>(value.constData())), static_cast<size_t>(name.size()),
            static_cast<size_t>(value.size()), NGHTTP3_NV_FLAG_NONE};
}

std::string cidKey(const std::uint8_t *data, std::size_t size)
{
    return std::string(reinterpret_cast<const char *>(data), size);
}

void raiseMax(std::atomic<qint64> &max, qint64 value)
{
    qint64 current = max.load(kRelaxed);
    while (value > current && !max.compare_exchange_weak(current, value, kRelaxed)) {
    }
}

} // namespace

class H3ServerExchange;

// One QUIC connection of the server: its requests are H3ServerExchanges.
class H3ServerConnection final : public H3Connection
{
public:
    H3ServerConnection(H3Server &server, bool reject)
        : H3Connection(server.m_tls,
                       [&server](const SocketAddress &to, const std::uint8_t *data, std::size_t size) {
                           server.m_counters->bytesSent.fetch_add(static_cast<qint64>(size), kRelaxed);
                           server.m_socket->sendTo(to, data, size);
                       },
                       &server),
          m_server(server), m_reject(reject)
    {
    }
    ~H3ServerConnection() override;

    bool init(const ngtcp2_pkt_hd &hd, const SocketAddress &local, const SocketAddress &remote);
    H3Server &server() const { return m_server; }
    const std::vector<std::string> &cids() const { return m_cids; }
    bool counted() const { return m_counted; }
    void setCounted() { m_counted = true; }

    // For its exchanges.
    void resume(std::int64_t streamId);
    void shutdownStream(std::int64_t streamId, std::uint64_t appError);
    bool overQueueLimits(qint64 streamQueued) const;
    void addQueued(qint64 delta);
    void drained(std::int64_t streamId) { m_drained.push_back(streamId); }
    nghttp3_conn *http() const { return h3(); }
    void write() { scheduleWrite(); }

    H3ServerExchange *begin(std::int64_t streamId);

private:
    bool setupHttp() override;
    void handshakeCompletedEvent() override;
    void afterReceive() override;
    void connectionEnded() override;
    void connectionIdIssued(const ngtcp2_cid &cid) override;
    void connectionIdRetired(const ngtcp2_cid &cid) override;
    void streamAcked(std::int64_t streamId, std::uint64_t bytes, void *streamData) override;
    void streamClosed(std::int64_t streamId, std::uint64_t appError, void *streamData) override;
    void streamHeader(std::int64_t streamId, const QByteArray &name, const QByteArray &value, void *streamData) override;
    void streamHeadersEnded(std::int64_t streamId, bool fin, void *streamData) override;
    void streamData(std::int64_t streamId, const std::uint8_t *data, std::size_t size, void *streamData) override;
    void dispatch(H3ServerExchange &exchange);

    H3Server &m_server;
    std::unordered_map<std::int64_t, std::unique_ptr<H3ServerExchange>> m_streams;
    std::vector<std::int64_t> m_ready;   // request heads complete, to hand to the handler
    std::vector<std::int64_t> m_drained; // output fell to the low-water mark
    std::vector<std::string> m_cids;
    qint64 m_queued = 0;
    bool m_reject = false;
    bool m_counted = false;
};

class H3ServerExchange final : public http::HttpServerExchange
{
public:
    H3ServerExchange(H3ServerConnection &connection, std::int64_t streamId)
        : m_connection(connection), m_streamId(streamId)
    {
        m_request.version = http::HttpVersion::Http3;
    }
    ~H3ServerExchange() override { m_connection.addQueued(-m_queued); }

    void respond(int status, const http::HttpHeaders &headers, const QByteArray &body) override
    {
        if (m_started || m_finished)
            return;
        m_started = m_finished = m_ended = true;
        const bool withBody = !body.isEmpty() && m_request.method != "HEAD";
        if (withBody)
            enqueue(body);
        submit(status, headers);
    }

    void startStream(int status, const http::HttpHeaders &headers) override
    {
        if (m_started || m_finished)
            return;
        m_started = true;
        submit(status, headers);
    }

    void writeStream(const http::StreamChunk &chunk) override
    {
        if (m_finished || !m_started || m_dropped || chunk.payload().isEmpty())
            return;
        enqueue(chunk.payload());
        if (m_connection.overQueueLimits(m_queued)) {
            dropSlowConsumer();
            return;
        }
        if (m_queued > http::kStreamLowWaterBytes)
            m_aboveLowWater = true;
        m_connection.resume(m_streamId);
    }

    void endStream() override
    {
        if (m_finished || !m_started)
            return;
        m_finished = m_ended = true;
        m_connection.resume(m_streamId);
    }

    qint64 queuedBytes() const override { return m_queued; }

    // The stream is reset both ways; exchangeAborted() follows when QUIC closes it.
    void dropSlowConsumer() override
    {
        if (m_finished || m_dropped)
            return;
        m_dropped = true;
        m_connection.server().counters().slowConsumersDropped.fetch_add(1, kRelaxed);
        m_connection.shutdownStream(m_streamId, NGHTTP3_H3_REQUEST_CANCELLED);
    }

    // nghttp3 takes the unsent chunks; they stay alive until acknowledged.
    nghttp3_ssize read(nghttp3_vec *vec, size_t count, uint32_t *flags)
    {
        size_t n = 0;
        while (n < count && m_unsent < m_chunks.size()) {
            const QByteArray &c = m_chunks[m_unsent++];
            vec[n++] = {reinterpret_cast<uint8_t *>(const_cast<char *>(c.constData())), static_cast<size_t>(c.size())};
        }
        if (m_unsent == m_chunks.size() && m_ended)
            *flags |= NGHTTP3_DATA_FLAG_EOF;
        else if (n == 0)
            return NGHTTP3_ERR_WOULDBLOCK;
        return static_cast<nghttp3_ssize>(n);
    }

    void acked(std::uint64_t bytes)
    {
        qint64 left = static_cast<qint64>(bytes);
        qint64 freed = 0;
        while (left > 0 && !m_chunks.empty()) {
            const qint64 rest = m_chunks.front().size() - m_frontAcked;
            if (left < rest) {
                m_frontAcked += left;
                break;
            }
            left -= rest;
            freed += m_chunks.front().size();
            m_chunks.pop_front();
            m_frontAcked = 0;
            --m_unsent;
        }
        m_queued -= freed;
        m_connection.addQueued(-freed);
        if (m_aboveLowWater && m_queued <= http::kStreamLowWaterBytes) {
            m_aboveLowWater = false;
            m_connection.drained(m_streamId);
        }
    }

    void addHeader(const QByteArray &name, const QByteArray &value)
    {
        m_headerBytes += name.size() + value.size() + 32;
        if (m_headerBytes > m_connection.server().limits().maxHeaderBytes) {
            m_tooLarge = true;
            return;
        }
        if (name == ":method")
            m_request.method = value;
        else if (name == ":path")
            m_request.setTarget(value);
        else if (name == ":authority")
            m_request.authority = value;
        else if (!name.startsWith(':'))
            m_request.headers.emplace_back(name, value);
    }

    bool m_dispatched = false;
    bool m_finished = false;
    bool m_tooLarge = false;

private:
    void enqueue(const QByteArray &bytes)
    {
        m_chunks.push_back(bytes);
        m_queued += bytes.size();
        m_connection.addQueued(bytes.size());
    }

    void submit(int status, const http::HttpHeaders &headers)
    {
        const QByteArray statusName = QByteArrayLiteral(":status");
        const QByteArray statusValue = QByteArray::number(status);
        std::vector<nghttp3_nv> nva;
        nva.reserve(headers.size() + 1);
        nva.push_back(makeNv(statusName, statusValue));
        for (const auto &[name, value] : headers)
            nva.push_back(makeNv(name, value));
        nghttp3_data_reader reader{[](nghttp3_conn *, int64_t, nghttp3_vec *vec, size_t count, uint32_t *flags, void *,
                                      void *streamData) -> nghttp3_ssize {
            return static_cast<H3ServerExchange *>(streamData)->read(vec, count, flags);
        }};
        const bool withBody = !(m_ended && m_chunks.empty());
        nghttp3_conn_submit_response(m_connection.http(), m_streamId, nva.data(), nva.size(), withBody ? &reader : nullptr);
        m_connection.write();
    }

    H3ServerConnection &m_connection;
    std::int64_t m_streamId = 0;
    std::deque<QByteArray> m_chunks; // unacknowledged, oldest first
    std::size_t m_unsent = 0;        // m_chunks[m_unsent..] not yet handed to nghttp3
    qint64 m_frontAcked = 0;
    qint64 m_queued = 0;
    qsizetype m_headerBytes = 0;
    bool m_started = false;
    bool m_ended = false;
    bool m_dropped = false;
    bool m_aboveLowWater = false;
};

H3ServerConnection::~H3ServerConnection() = default;

bool H3ServerConnection::init(const ngtcp2_pkt_hd &hd, const SocketAddress &local, const SocketAddress &remote)
{
    ngtcp2_cid scid;
    scid.datalen = kCidBytes;
    (void)gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
    const http::ServerLimits &limits = m_server.limits();
    ngtcp2_settings settings;
    ngtcp2_settings_default(&settings);
    settings.initial_ts = timestamp();
    settings.max_window = 6 * 1024 * 1024;
    settings.max_stream_window = 6 * 1024 * 1024;
    settings.handshake_timeout = static_cast<ngtcp2_duration>(limits.requestTimeout.count()) * NGTCP2_MILLISECONDS;
    ngtcp2_transport_params params;
    ngtcp2_transport_params_default(&params);
    params.initial_max_stream_data_bidi_local = 256 * 1024;
    params.initial_max_stream_data_bidi_remote = 256 * 1024;
    params.initial_max_stream_data_uni = 256 * 1024;
    params.initial_max_data = 1024 * 1024;
    params.initial_max_streams_bidi = limits.maxConcurrentStreams;
    params.initial_max_streams_uni = 3;
    params.max_idle_timeout = static_cast<ngtcp2_duration>(limits.idleTimeout.count()) * NGTCP2_MILLISECONDS;
    params.original_dcid = hd.dcid;
    ngtcp2_callbacks callbacks = baseCallbacks();
    callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
    ngtcp2_path path{{const_cast<sockaddr *>(local.get()), local.length},
                     {const_cast<sockaddr *>(remote.get()), remote.length},
                     nullptr};
    ngtcp2_conn *conn = nullptr;
    if (ngtcp2_conn_server_new(&conn, &hd.scid, &scid, &path, hd.version, &callbacks, &settings, &params, nullptr,
                               static_cast<H3Connection *>(this)) != 0)
        return false;
    if (!attach(conn, local, remote))
        return false;
    connectionIdIssued(scid);
    m_cids.push_back(cidKey(hd.dcid.data, hd.dcid.datalen));
    m_server.route(QByteArray::fromStdString(m_cids.back()), this);
    return true;
}

bool H3ServerConnection::setupHttp()
{
    nghttp3_callbacks callbacks;
    fillHttpCallbacks(&callbacks);
    callbacks.begin_headers = [](nghttp3_conn *, int64_t streamId, void *userData, void *) {
        auto *self = static_cast<H3ServerConnection *>(static_cast<H3Connection *>(userData));
        return self->begin(streamId) ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
    };
    nghttp3_settings settings;
    nghttp3_settings_default(&settings);
    settings.qpack_max_dtable_capacity = 4096;
    settings.qpack_blocked_streams = 100;
    nghttp3_conn *h3 = nullptr;
    if (nghttp3_conn_server_new(&h3, &callbacks, &settings, nullptr, static_cast<H3Connection *>(this)) != 0)
        return false;
    setH3(h3);
    nghttp3_conn_set_max_client_streams_bidi(h3, ngtcp2_conn_get_local_transport_params(conn())->initial_max_streams_bidi);
    return bindHttpStreams();
}

H3ServerExchange *H3ServerConnection::begin(std::int64_t streamId)
{
    auto exchange = std::make_unique<H3ServerExchange>(*this, streamId);
    H3ServerExchange *raw = exchange.get();
    m_streams[streamId] = std::move(exchange);
    nghttp3_conn_set_stream_user_data(h3(), streamId, raw);
    return raw;
}

void H3ServerConnection::handshakeCompletedEvent()
{
    m_server.handshakeCompleted(this);
}

void H3ServerConnection::streamHeader(std::int64_t, const QByteArray &name, const QByteArray &value, void *streamData)
{
    if (streamData)
        static_cast<H3ServerExchange *>(streamData)->addHeader(name, value);
}

void H3ServerConnection::streamHeadersEnded(std::int64_t streamId, bool, void *streamData)
{
    if (streamData)
        m_ready.push_back(streamId);
}

void H3ServerConnection::streamData(std::int64_t, const std::uint8_t *, std::size_t, void *)
{
    // Request bodies are read and ignored, as on HTTP/1.1 and HTTP/2.
}

void H3ServerConnection::streamAcked(std::int64_t, std::uint64_t bytes, void *streamData)
{
    if (streamData)
        static_cast<H3ServerExchange *>(streamData)->acked(bytes);
}

void H3ServerConnection::streamClosed(std::int64_t streamId, std::uint64_t, void *)
{
    const auto it = m_streams.find(streamId);
    if (it == m_streams.end())
        return;
    std::unique_ptr<H3ServerExchange> exchange = std::move(it->second);
    m_streams.erase(it);
    if (exchange->m_dispatched && !exchange->m_finished)
        m_server.handler().exchangeAborted(*exchange);
}

void H3ServerConnection::afterReceive()
{
    std::vector<std::int64_t> ready;
    ready.swap(m_ready);
    for (const std::int64_t id : ready) {
        const auto it = m_streams.find(id);
        if (it != m_streams.end() && !it->second->m_dispatched)
            dispatch(*it->second);
    }
    std::vector<std::int64_t> drained;
    drained.swap(m_drained);
    for (const std::int64_t id : drained) {
        const auto it = m_streams.find(id);
        if (it != m_streams.end() && it->second->m_dispatched && !it->second->m_finished)
            m_server.handler().exchangeDrained(*it->second);
    }
}

void H3ServerConnection::dispatch(H3ServerExchange &exchange)
{
    exchange.m_dispatched = true;
    http::ServerCounters &counters = m_server.counters();
    counters.requests.fetch_add(1, kRelaxed);
    const http::HttpRequest &request = exchange.request();
    if (exchange.m_tooLarge || request.method.isEmpty() || request.path.isEmpty()) {
        counters.badRequests.fetch_add(1, kRelaxed);
        exchange.respond(exchange.m_tooLarge ? 431 : 400, {{"content-type", "text/plain; charset=utf-8"}},
                         QByteArrayLiteral("Malformed request.\n"));
        return;
    }
    if (m_reject) {
        counters.connectionsRejected.fetch_add(1, kRelaxed);
        http::HttpHeaders headers = http::withCors(
            request, {{"content-type", "text/plain; charset=utf-8"},
                      {"retry-after", QByteArray::number(static_cast<qint64>(m_server.limits().retryAfter.count()))}});
        exchange.respond(503, headers, QByteArrayLiteral("Over capacity: retry after the time in Retry-After.\n"));
        return;
    }
    m_server.handler().handleRequest(exchange);
}

void H3ServerConnection::connectionEnded()
{
    std::unordered_map<std::int64_t, std::unique_ptr<H3ServerExchange>> streams;
    streams.swap(m_streams);
    for (auto &[id, exchange] : streams) {
        if (exchange->m_dispatched && !exchange->m_finished)
            m_server.handler().exchangeAborted(*exchange);
    }
}

void H3ServerConnection::connectionIdIssued(const ngtcp2_cid &cid)
{
    m_cids.push_back(cidKey(cid.data, cid.datalen));
    m_server.route(QByteArray::fromStdString(m_cids.back()), this);
}

void H3ServerConnection::connectionIdRetired(const ngtcp2_cid &cid)
{
    const std::string key = cidKey(cid.data, cid.datalen);
    m_server.unroute(QByteArray::fromStdString(key));
    m_cids.erase(std::remove(m_cids.begin(), m_cids.end(), key), m_cids.end());
}

void H3ServerConnection::resume(std::int64_t streamId)
{
    if (h3())
        nghttp3_conn_resume_stream(h3(), streamId);
    scheduleWrite();
}

void H3ServerConnection::shutdownStream(std::int64_t streamId, std::uint64_t appError)
{
    ngtcp2_conn_shutdown_stream(conn(), streamId, appError);
    scheduleWrite();
}

bool H3ServerConnection::overQueueLimits(qint64 streamQueued) const
{
    const http::ServerLimits &limits = m_server.limits();
    return streamQueued > limits.maxQueuedBytesPerStream || m_queued > limits.maxQueuedBytesPerConnection ||
           m_server.counters().bytesQueued.load(kRelaxed) > limits.maxQueuedBytesTotal;
}

void H3ServerConnection::addQueued(qint64 delta)
{
    m_queued += delta;
    m_server.counters().bytesQueued.fetch_add(delta, kRelaxed);
}

H3Server::H3Server(const http::ServerLimits &limits, http::RequestHandler *handler, http::ServerCounters *counters,
                   QuicServerCounters *quic, std::shared_ptr<const QuicTls> tls, QObject *parent)
    : QObject(parent), m_limits(limits), m_handler(handler), m_counters(counters), m_tls(std::move(tls)), m_quic(quic)
{
}

H3Server::~H3Server()
{
    close();
}

bool H3Server::listen(const QHostAddress &address, quint16 port)
{
    if (!m_tls || !m_tls->isServer()) {
        m_error = QStringLiteral("HTTP/3 needs the server's certificate and key (QUIC is always TLS)");
        return false;
    }
    m_socket = new UdpSocket(this);
    if (!m_socket->bind(address, port, &m_error)) {
        delete m_socket;
        m_socket = nullptr;
        return false;
    }
    m_socket->setReceiver([this](const SocketAddress &from, const std::uint8_t *data, std::size_t size) {
        onDatagram(from, data, size);
    });
    return true;
}

quint16 H3Server::port() const
{
    return m_socket ? m_socket->port() : 0;
}

void H3Server::onDatagram(const SocketAddress &from, const std::uint8_t *data, std::size_t size)
{
    m_quic->datagramsReceived.fetch_add(1, kRelaxed);
    m_counters->bytesReceived.fetch_add(static_cast<qint64>(size), kRelaxed);
    ngtcp2_version_cid vc;
    if (ngtcp2_pkt_decode_version_cid(&vc, data, size, kCidBytes) != 0) {
        m_quic->datagramsDropped.fetch_add(1, kRelaxed);
        return;
    }
    const auto it = m_byCid.find(cidKey(vc.dcid, vc.dcidlen));
    if (it == m_byCid.end()) {
        accept(from, data, size);
        return;
    }
    it->second->receive(from, data, size);
}

void H3Server::accept(const SocketAddress &from, const std::uint8_t *data, std::size_t size)
{
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, data, size) != 0) {
        m_quic->datagramsDropped.fetch_add(1, kRelaxed);
        return;
    }
    if (m_handshaking >= kMaxHandshakes || m_connections.size() >= kMaxConnectionsHardCap) {
        m_quic->datagramsDropped.fetch_add(1, kRelaxed);
        m_quic->handshakesRefused.fetch_add(1, kRelaxed);
        return;
    }
    const qint64 open = m_counters->connectionsOpen.load(kRelaxed);
    const bool reject = m_limits.maxConnections > 0 && open >= m_limits.maxConnections;
    auto *connection = new H3ServerConnection(*this, reject);
    if (!connection->init(hd, m_socket->localAddress(), from)) {
        for (const std::string &cid : connection->cids())
            m_byCid.erase(cid);
        delete connection;
        m_quic->datagramsDropped.fetch_add(1, kRelaxed);
        return;
    }
    m_connections.push_back(connection);
    ++m_handshaking;
    m_quic->connectionsOpen.fetch_add(1, kRelaxed);
    if (!reject) {
        connection->setCounted();
        m_counters->connectionsTotal.fetch_add(1, kRelaxed);
        raiseMax(m_counters->connectionsMax, m_counters->connectionsOpen.fetch_add(1, kRelaxed) + 1);
    }
    connect(connection, &H3Connection::finished, this, [this, connection] { connectionFinished(connection); });
    connection->receive(from, data, size);
    if (connection->isFinished()) // its first packet did not decrypt: nothing kept (deleted later)
        m_quic->datagramsDropped.fetch_add(1, kRelaxed);
}

void H3Server::handshakeCompleted(H3ServerConnection *connection)
{
    (void)connection;
    if (m_handshaking > 0)
        --m_handshaking;
    m_quic->http3Connections.fetch_add(1, kRelaxed);
}

void H3Server::route(const QByteArray &cid, H3ServerConnection *connection)
{
    m_byCid[cid.toStdString()] = connection;
}

void H3Server::unroute(const QByteArray &cid)
{
    m_byCid.erase(cid.toStdString());
}

void H3Server::connectionFinished(H3ServerConnection *connection)
{
    const auto it = std::find(m_connections.begin(), m_connections.end(), connection);
    if (it == m_connections.end())
        return;
    m_connections.erase(it);
    for (const std::string &cid : connection->cids()) {
        const auto routed = m_byCid.find(cid);
        if (routed != m_byCid.end() && routed->second == connection)
            m_byCid.erase(routed);
    }
    if (!connection->handshakeCompleted() && m_handshaking > 0)
        --m_handshaking;
    m_quic->connectionsOpen.fetch_sub(1, kRelaxed);
    if (connection->counted())
        m_counters->connectionsOpen.fetch_sub(1, kRelaxed);
    connection->deleteLater();
}

void H3Server::close()
{
    std::vector<H3ServerConnection *> connections = m_connections;
    for (H3ServerConnection *connection : connections)
        connection->closeConnection();
    for (H3ServerConnection *connection : connections)
        delete connection;
    m_connections.clear();
    m_byCid.clear();
    delete m_socket;
    m_socket = nullptr;
}

} // namespace edgesse::quic
