#include "core/quic/h3client.h"

#include "core/quic/h3connection.h"
#include "core/quic/quictls.h"
#include "core/quic/udpsocket.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>

namespace edgesse::quic {

namespace {

constexpr std::size_t kCidBytes = 18;
constexpr std::uint64_t kStreamWindowBytes = 1024 * 1024;

nghttp3_nv makeNv(const QByteArray &name, const QByteArray &value)
{
    return {reinterpret_cast<uint8_t *>(const_cast<char *>(name.constData())),
            reinterpret_cast<uint8_t *>(const_cast<char *>(value.constData())), static_cast<size_t>(name.size()),
            static_cast<size_t>(value.size()), NGHTTP3_NV_FLAG_NONE};
}

} // namespace

// The QUIC connection under an H3ClientConnection: it records what nghttp3 reports per
// stream, and the connection hands it to the handlers once the datagram is processed.
class H3ClientSession final : public H3Connection
{
public:
    H3ClientSession(H3ClientConnection &owner, std::shared_ptr<const QuicTls> tls)
        : H3Connection(std::move(tls),
                       [this](const SocketAddress &, const std::uint8_t *data, std::size_t size) {
                           m_socket.send(data, size);
                       },
                       nullptr),
          m_owner(owner)
    {
    }

    bool open(const SocketAddress &remote, const QHostAddress &local, QString *error)
    {
        if (!m_socket.connectTo(remote, local, error))
            return false;
        m_socket.setReceiver([this](const SocketAddress &from, const std::uint8_t *data, std::size_t size) {
            receive(from, data, size);
        });
        ngtcp2_cid dcid;
        ngtcp2_cid scid;
        dcid.datalen = kCidBytes;
        scid.datalen = kCidBytes;
        (void)gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen);
        (void)gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen);
        ngtcp2_settings settings;
        ngtcp2_settings_default(&settings);
        settings.initial_ts = timestamp();
        settings.max_window = 24 * 1024 * 1024;
        settings.max_stream_window = 6 * 1024 * 1024;
        ngtcp2_transport_params params;
        ngtcp2_transport_params_default(&params);
        params.initial_max_streams_bidi = 0;
        params.initial_max_streams_uni = 3;
        params.initial_max_stream_data_bidi_local = kStreamWindowBytes;
        params.initial_max_stream_data_uni = kStreamWindowBytes;
        params.initial_max_data = 16 * kStreamWindowBytes;
        params.max_idle_timeout = 30 * NGTCP2_SECONDS; // Chromium's QUIC idle timeout
        ngtcp2_callbacks callbacks = baseCallbacks();
        callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
        callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
        const SocketAddress &localAddress = m_socket.localAddress();
        ngtcp2_path path{{const_cast<sockaddr *>(localAddress.get()), localAddress.length},
                         {const_cast<sockaddr *>(remote.get()), remote.length},
                         nullptr};
        ngtcp2_conn *conn = nullptr;
        if (ngtcp2_conn_client_new(&conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &callbacks, &settings, &params,
                                   nullptr, static_cast<H3Connection *>(this)) != 0) {
            *error = QStringLiteral("cannot create a QUIC connection");
            return false;
        }
        if (!attach(conn, localAddress, remote)) {
            *error = errorString();
            return false;
        }
        scheduleWrite();
        return true;
    }

    // Opens a request stream; false when the server's stream limit has none left.
    bool request(const http::ClientRequest &request, std::int64_t *id)
    {
        if (!h3() || ngtcp2_conn_open_bidi_stream(conn(), id, nullptr) != 0)
            return false;
        const QByteArray method = request.method;
        std::vector<std::pair<QByteArray, QByteArray>> fields{{":method", method},
                                                              {":scheme", "https"},
                                                              {":authority", request.authority},
                                                              {":path", request.path}};
        for (const http::Header &h : request.headers)
            fields.emplace_back(h.name.toLower(), h.value);
        std::vector<nghttp3_nv> nva;
        nva.reserve(fields.size());
        for (const auto &[name, value] : fields)
            nva.push_back(makeNv(name, value));
        if (nghttp3_conn_submit_request(h3(), *id, nva.data(), nva.size(), nullptr, nullptr) != 0)
            return false;
        scheduleWrite();
        return true;
    }

    void cancelStream(std::int64_t id)
    {
        ngtcp2_conn_shutdown_stream(conn(), id, NGHTTP3_H3_REQUEST_CANCELLED);
        scheduleWrite();
    }

    std::uint64_t streamsLeft() const { return h3() ? ngtcp2_conn_get_streams_bidi_left(conn()) : 0; }

private:
    bool setupHttp() override
    {
        nghttp3_callbacks callbacks;
        fillHttpCallbacks(&callbacks);
        nghttp3_settings settings;
        nghttp3_settings_default(&settings);
        settings.qpack_max_dtable_capacity = 4096;
        settings.qpack_blocked_streams = 100;
        nghttp3_conn *h3conn = nullptr;
        if (nghttp3_conn_client_new(&h3conn, &callbacks, &settings, nullptr, static_cast<H3Connection *>(this)) != 0)
            return false;
        setH3(h3conn);
        return bindHttpStreams();
    }

    void handshakeCompletedEvent() override
    {
        if (!h3())
            (void)setupHttp();
    }
    void afterReceive() override { m_owner.deliver(); }
    void moreStreamsAllowed() override { m_owner.m_touched.push_back(-1); }
    void connectionEnded() override {}

    H3ClientConnection::Stream *find(std::int64_t id)
    {
        const auto it = m_owner.m_streams.find(id);
        return it == m_owner.m_streams.end() ? nullptr : &it->second;
    }

    void streamHeader(std::int64_t id, const QByteArray &name, const QByteArray &value, void *) override
    {
        H3ClientConnection::Stream *s = find(id);
        if (!s)
            return;
        if (name == ":status") {
            s->head.status = value.toInt();
            s->head.headers.clear();
        } else {
            s->head.headers.push_back({name, value});
        }
    }
    void streamHeadersEnded(std::int64_t id, bool, void *) override
    {
        H3ClientConnection::Stream *s = find(id);
        if (s && s->head.status >= 200 && !s->headDelivered) {
            s->headReady = true;
            m_owner.m_touched.push_back(id);
        }
    }
    void streamData(std::int64_t id, const std::uint8_t *data, std::size_t size, void *) override
    {
        H3ClientConnection::Stream *s = find(id);
        if (!s)
            return;
        s->pending.append(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
        m_owner.m_touched.push_back(id);
    }
    void streamEnded(std::int64_t id, void *) override
    {
        if (H3ClientConnection::Stream *s = find(id)) {
            s->ended = true;
            m_owner.m_touched.push_back(id);
        }
    }
    void streamClosed(std::int64_t id, std::uint64_t appError, void *) override
    {
        if (H3ClientConnection::Stream *s = find(id)) {
            s->closed = true;
            s->appError = appError;
            m_owner.m_touched.push_back(id);
        }
    }

    H3ClientConnection &m_owner;
    UdpSocket m_socket;
};

H3ClientConnection::H3ClientConnection(QString host, quint16 port, std::shared_ptr<const QuicTls> tls, QObject *parent,
                                       const QHostAddress &localAddress)
    : http::ClientConnection(parent), m_host(std::move(host)), m_port(port),
      m_session(std::make_unique<H3ClientSession>(*this, std::move(tls))),
      m_connectStartedAt(http::Clock::now())
{
    connect(m_session.get(), &H3Connection::handshakeDone, this, &H3ClientConnection::onHandshakeDone);
    connect(m_session.get(), &H3Connection::finished, this, &H3ClientConnection::onFinished);
    QHostAddress address(m_host);
    if (address.isNull() && m_host == QLatin1String("localhost"))
        address = QHostAddress(QHostAddress::LocalHost);
    QString error;
    if (address.isNull() || !m_session->open(SocketAddress::from(address, m_port), localAddress, &error)) {
        m_lastError = error.isEmpty() ? QStringLiteral("HTTP/3 needs an IP address or localhost, not %1").arg(m_host) : error;
        m_closing = true;
        QMetaObject::invokeMethod(this, [this] { failAll(http::ClientError::ConnectFailed, m_lastError); },
                                  Qt::QueuedConnection);
    }
}

H3ClientConnection::~H3ClientConnection()
{
    m_session.reset();
}

bool H3ClientConnection::handshakeCompleted() const
{
    return m_session && m_session->handshakeCompleted();
}

std::chrono::microseconds H3ClientConnection::smoothedRtt() const
{
    return std::chrono::microseconds(m_session ? m_session->stat().smoothed_rtt / 1000 : 0);
}

bool H3ClientConnection::hasCapacity() const
{
    return !m_closing && m_queue.empty() && m_streams.size() < m_streamCap &&
           (!handshakeCompleted() || m_session->streamsLeft() > 0);
}

void H3ClientConnection::submit(const http::ClientRequest &request, http::ResponseHandler *handler)
{
    if (m_closing) {
        QMetaObject::invokeMethod(
            this, [handler] { handler->responseFailed(http::ClientError::Refused, QStringLiteral("connection closing")); },
            Qt::QueuedConnection);
        return;
    }
    m_queue.push_back({request, handler, http::Clock::now(), false});
    startQueued();
}

void H3ClientConnection::startQueued()
{
    if (!handshakeCompleted())
        return;
    while (!m_queue.empty() && m_streams.size() < m_streamCap) {
        if (!startStream(m_queue.front()))
            break;
        m_queue.pop_front();
    }
    for (Queued &q : m_queue) {
        if (!q.starvedReported) {
            q.starvedReported = true;
            q.handler->requestStarved(q.since);
        }
    }
}

bool H3ClientConnection::startStream(Queued &queued)
{
    std::int64_t id = -1;
    if (!m_session->request(queued.request, &id))
        return false;
    m_streams[id].handler = queued.handler;
    http::StartInfo info;
    info.protocol = http::ClientProtocol::Http3;
    info.reusedConnection = m_connectTime.count() > 0 && queued.since > m_connectStartedAt + m_connectTime;
    info.connectTime = m_connectTime;
    info.starvedFor = queued.starvedReported
                          ? std::chrono::duration_cast<std::chrono::microseconds>(http::Clock::now() - queued.since)
                          : std::chrono::microseconds(0);
    info.requestSentAt = http::Clock::now();
    info.tls = true;
    queued.handler->requestStarted(info);
    return true;
}

void H3ClientConnection::onHandshakeDone()
{
    m_connectTime = std::chrono::duration_cast<std::chrono::microseconds>(http::Clock::now() - m_connectStartedAt);
    startQueued();
    emit transportReady();
}

bool H3ClientConnection::cancel(http::ResponseHandler *handler)
{
    for (auto it = m_queue.begin(); it != m_queue.end(); ++it) {
        if (it->handler == handler) {
            m_queue.erase(it);
            return true;
        }
    }
    for (auto it = m_streams.begin(); it != m_streams.end(); ++it) {
        if (it->second.handler == handler) {
            const std::int64_t id = it->first;
            m_streams.erase(it);
            if (m_session && !m_session->isFinished())
                m_session->cancelStream(id);
            emit capacityFreed();
            return true;
        }
    }
    return false;
}

void H3ClientConnection::deliver()
{
    if (m_delivering)
        return;
    m_delivering = true;
    std::vector<std::int64_t> touched;
    touched.swap(m_touched);
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    bool freed = false;
    for (const std::int64_t id : touched) {
        if (id < 0)
            continue;
        const std::size_t before = m_streams.size();
        deliverStream(id);
        freed = freed || m_streams.size() < before;
    }
    m_delivering = false;
    startQueued();
    if (freed)
        emit capacityFreed();
}

void H3ClientConnection::deliverStream(std::int64_t id)
{
    auto it = m_streams.find(id);
    if (it == m_streams.end())
        return;
    if (it->second.headReady && !it->second.headDelivered) {
        it->second.headDelivered = true;
        it->second.handler->responseHeadReceived(it->second.head);
        if ((it = m_streams.find(id)) == m_streams.end())
            return; // cancelled from inside
    }
    if (!it->second.pending.isEmpty()) {
        const QByteArray data = std::move(it->second.pending);
        it->second.pending.clear();
        it->second.handler->responseDataReceived(data.constData(), static_cast<std::size_t>(data.size()));
        if ((it = m_streams.find(id)) == m_streams.end())
            return;
    }
    if (!it->second.ended && !it->second.closed)
        return;
    Stream stream = std::move(it->second);
    m_streams.erase(it);
    if (stream.ended && stream.headDelivered)
        stream.handler->responseCompleted();
    else
        stream.handler->responseFailed(http::ClientError::StreamReset,
                                       QStringLiteral("HTTP/3 stream reset (error 0x%1)").arg(stream.appError, 0, 16));
}

void H3ClientConnection::onFinished()
{
    deliver();
    m_closing = true;
    if (m_lastError.isEmpty())
        m_lastError = m_session->errorString();
    const QString message = m_lastError.isEmpty() ? QStringLiteral("the HTTP/3 connection closed") : m_lastError;
    failAll(handshakeCompleted() ? http::ClientError::ConnectionClosed : http::ClientError::ConnectFailed, message);
}

void H3ClientConnection::failAll(http::ClientError error, const QString &message)
{
    m_closing = true;
    std::deque<Queued> queue;
    queue.swap(m_queue);
    std::unordered_map<std::int64_t, Stream> streams;
    streams.swap(m_streams);
    for (auto &[id, stream] : streams)
        stream.handler->responseFailed(error, message);
    for (Queued &q : queue)
        q.handler->responseFailed(error == http::ClientError::ConnectionClosed ? http::ClientError::Refused : error,
                                  message);
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        emit closed();
    }
}

void H3ClientConnection::close()
{
    if (m_session && !m_session->isFinished())
        m_session->closeConnection();
    else
        failAll(http::ClientError::ConnectionClosed, QStringLiteral("connection closed"));
}

} // namespace edgesse::quic
