#include "core/http/h2client.h"

#include "core/tls/tlschannel.h"

#include <nghttp2/nghttp2.h>

#include <array>

namespace edgesse::http {

namespace {

nghttp2_nv makeNv(const QByteArray &name, const QByteArray &value)
{
    return {reinterpret_cast<uint8_t *>(const_cast<char *>(name.constData())),
            reinterpret_cast<uint8_t *>(const_cast<char *>(value.constData())),
            static_cast<size_t>(name.size()), static_cast<size_t>(value.size()), NGHTTP2_NV_FLAG_NONE};
}

} // namespace

struct H2ClientConnection::Callbacks {
    static H2ClientConnection &self(void *user) { return *static_cast<H2ClientConnection *>(user); }

    static int onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name, size_t nameLen,
                        const uint8_t *value, size_t valueLen, uint8_t, void *user)
    {
        if (frame->hd.type != NGHTTP2_HEADERS)
            return 0;
        auto &c = self(user);
        auto it = c.m_streams.find(frame->hd.stream_id);
        if (it == c.m_streams.end())
            return 0;
        const QByteArray n(reinterpret_cast<const char *>(name), static_cast<qsizetype>(nameLen));
        const QByteArray v(reinterpret_cast<const char *>(value), static_cast<qsizetype>(valueLen));
        if (n == ":status") {
            it->second.head.status = v.toInt();
            it->second.head.headers.clear(); // a new (final) response head after a 1xx
        } else {
            it->second.head.headers.push_back({n, v});
        }
        return 0;
    }

    static int onFrameRecv(nghttp2_session *session, const nghttp2_frame *frame, void *user)
    {
        auto &c = self(user);
        switch (frame->hd.type) {
        case NGHTTP2_SETTINGS:
            if (!(frame->hd.flags & NGHTTP2_FLAG_ACK)) {
                c.m_settingsReceived = true;
                c.startQueued();
            }
            break;
        case NGHTTP2_HEADERS: {
            auto it = c.m_streams.find(frame->hd.stream_id);
            if (it == c.m_streams.end())
                break;
            Stream &s = it->second;
            if (!s.headDelivered && s.head.status >= 200) {
                s.headDelivered = true;
                if (s.handler)
                    s.handler->responseHeadReceived(s.head);
            }
            break;
        }
        case NGHTTP2_GOAWAY:
            c.m_goAway = true;
            c.m_goAwayError = frame->goaway.error_code;
            // Requests never sent will not be served here; the owner retries them.
            while (!c.m_queue.empty()) {
                Queued q = std::move(c.m_queue.front());
                c.m_queue.pop_front();
                q.handler->responseFailed(ClientError::Refused, QStringLiteral("the server sent GOAWAY before the request started"));
            }
            (void)session;
            break;
        default:
            break;
        }
        return 0;
    }

    static int onDataChunk(nghttp2_session *session, uint8_t, int32_t streamId, const uint8_t *data, size_t len, void *user)
    {
        auto &c = self(user);
        auto it = c.m_streams.find(streamId);
        if (it != c.m_streams.end() && it->second.handler) {
            if (c.m_place.localPort != 0 && data >= c.m_recvStart && data + len <= c.m_recvStart + c.m_recvSize) {
                WirePlace place = c.m_place;
                place.offset = c.m_wireBytes - c.m_recvSize + static_cast<std::uint64_t>(data - c.m_recvStart);
                it->second.handler->responseDataPlaced(place);
            }
            it->second.handler->responseDataReceived(reinterpret_cast<const char *>(data), len);
        }
        // The bytes are taken: reopen the windows (WINDOW_UPDATE goes out with the next flush).
        nghttp2_session_consume(session, streamId, len);
        return 0;
    }

    static int onStreamClose(nghttp2_session *, int32_t streamId, uint32_t errorCode, void *user)
    {
        auto &c = self(user);
        auto it = c.m_streams.find(streamId);
        if (it == c.m_streams.end())
            return 0;
        Stream s = std::move(it->second);
        c.m_streams.erase(it);
        if (s.handler) {
            if (errorCode == NGHTTP2_NO_ERROR && s.headDelivered) {
                s.handler->responseCompleted();
            } else if (errorCode == NGHTTP2_REFUSED_STREAM) {
                s.handler->responseFailed(ClientError::Refused, QStringLiteral("the server refused the stream"));
            } else if (errorCode == NGHTTP2_NO_ERROR) {
                s.handler->responseFailed(ClientError::Protocol, QStringLiteral("stream ended without a response head"));
            } else {
                s.handler->responseFailed(ClientError::StreamReset,
                                          QStringLiteral("stream reset by the server: %1")
                                              .arg(QString::fromUtf8(nghttp2_http2_strerror(errorCode))));
            }
        }
        c.m_freedDuringRecv = true;
        return 0;
    }

    static int onError(nghttp2_session *, int, const char *message, size_t len, void *user)
    {
        self(user).m_lastError = QString::fromUtf8(message, static_cast<qsizetype>(len));
        return 0;
    }
};

H2ClientConnection::H2ClientConnection(QString host, quint16 port, std::int32_t localWindowBytes, ClientTls tls,
                                       QObject *parent, const QHostAddress &localAddress)
    : ClientConnection(parent)
    , m_host(std::move(host))
    , m_port(port)
    , m_localWindow(localWindowBytes)
{
    nghttp2_session_callbacks *callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &Callbacks::onHeader);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &Callbacks::onFrameRecv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &Callbacks::onDataChunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &Callbacks::onStreamClose);
    nghttp2_session_callbacks_set_error_callback2(callbacks, &Callbacks::onError);
    nghttp2_option *option = nullptr;
    nghttp2_option_new(&option);
    nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_session_client_new2(&m_session, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);

    const std::array<nghttp2_settings_entry, 2> settings{{
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(m_localWindow)},
    }};
    nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
    nghttp2_session_set_local_window_size(m_session, NGHTTP2_FLAG_NONE, 0, m_localWindow);

    m_socket = new ClientTransport(tls, tls::alpnH2(), this);
    connect(m_socket, &ClientTransport::connected, this, &H2ClientConnection::onConnected);
    connect(m_socket, &ClientTransport::readyRead, this, &H2ClientConnection::onReadyRead);
    connect(m_socket, &ClientTransport::disconnected, this, &H2ClientConnection::onDisconnected);
    connect(m_socket, &ClientTransport::errorOccurred, this, &H2ClientConnection::onError);
    m_connectStartedAt = Clock::now();
    m_socket->connectToHost(m_host, m_port, localAddress);
}

H2ClientConnection::~H2ClientConnection()
{
    for (auto &[id, s] : m_streams)
        s.handler = nullptr;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
    nghttp2_session_del(m_session);
}

std::uint32_t H2ClientConnection::streamLimit() const
{
    if (!m_settingsReceived)
        return std::max<std::uint32_t>(m_streamsBeforeSettings, 1);
    return std::min(m_streamCap, nghttp2_session_get_remote_settings(m_session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS));
}

bool H2ClientConnection::hasCapacity() const
{
    return isUsable() && m_queue.empty() && m_streams.size() < streamLimit();
}

void H2ClientConnection::submit(const ClientRequest &request, ResponseHandler *handler)
{
    Queued q{request, handler, Clock::now(), false};
    if (m_queue.empty() && m_streams.size() < streamLimit()) {
        startStream(std::move(q));
    } else {
        if (m_settingsReceived) {
            q.starvedReported = true;
            handler->requestStarved(q.since);
        }
        m_queue.push_back(std::move(q));
    }
    if (m_inCallback == 0)
        flush();
}

void H2ClientConnection::startQueued()
{
    while (!m_queue.empty() && !m_goAway && !m_closing && m_streams.size() < streamLimit()) {
        Queued q = std::move(m_queue.front());
        m_queue.pop_front();
        startStream(std::move(q));
    }
    if (!m_settingsReceived || m_goAway || m_closing)
        return;
    // Requests that waited for the server's SETTINGS and still find no slot are starved now.
    const auto now = Clock::now();
    for (Queued &q : m_queue) {
        if (!q.starvedReported) {
            q.starvedReported = true;
            q.since = now;
            q.handler->requestStarved(now);
        }
    }
}

void H2ClientConnection::startStream(Queued &&q)
{
    std::vector<nghttp2_nv> nva;
    nva.reserve(4 + q.request.headers.size());
    static const QByteArray kMethod(":method"), kPath(":path"), kScheme(":scheme"), kAuthority(":authority"), kHttp("http");
    nva.push_back(makeNv(kMethod, q.request.method));
    nva.push_back(makeNv(kScheme, kHttp));
    nva.push_back(makeNv(kAuthority, q.request.authority));
    nva.push_back(makeNv(kPath, q.request.path));
    std::vector<QByteArray> lowerNames;
    lowerNames.reserve(q.request.headers.size());
    for (const Header &h : q.request.headers) {
        lowerNames.push_back(h.name.toLower());
        nva.push_back(makeNv(lowerNames.back(), h.value));
    }
    const int32_t id = nghttp2_submit_request(m_session, nullptr, nva.data(), nva.size(), nullptr, nullptr);
    if (id < 0) {
        q.handler->responseFailed(ClientError::Protocol,
                                  QStringLiteral("cannot open an HTTP/2 stream: %1").arg(QString::fromUtf8(nghttp2_strerror(id))));
        return;
    }
    m_streams.emplace(id, Stream{q.handler, {}, false, false});
    if (!m_connected) {
        // Sent once the connection is up: reported then, the first carrying the connect time.
        m_startsBeforeConnect.push_back(id);
        return;
    }
    reportStart(id, q.starvedReported ? std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - q.since)
                                      : std::chrono::microseconds(0));
}

void H2ClientConnection::reportStart(std::int32_t id, std::chrono::microseconds starvedFor)
{
    const auto it = m_streams.find(id);
    if (it == m_streams.end() || !it->second.handler)
        return;
    const auto now = Clock::now();
    StartInfo info;
    info.protocol = ClientProtocol::Http2;
    info.reusedConnection = m_connectReported;
    info.connectTime = m_connectReported ? std::chrono::microseconds(0) : m_connectTime;
    info.starvedFor = starvedFor;
    info.requestSentAt = now;
    info.tls = m_socket && m_socket->isTls();
    info.tlsResumed = m_socket && m_socket->sessionResumed();
    m_connectReported = true;
    it->second.handler->requestStarted(info);
}

bool H2ClientConnection::cancel(ResponseHandler *handler)
{
    for (auto it = m_queue.begin(); it != m_queue.end(); ++it) {
        if (it->handler == handler) {
            m_queue.erase(it);
            return true;
        }
    }
    for (auto &[id, s] : m_streams) {
        if (s.handler == handler) {
            s.handler = nullptr;
            nghttp2_submit_rst_stream(m_session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL);
            if (m_inCallback == 0)
                flush();
            return true;
        }
    }
    return false;
}

void H2ClientConnection::close()
{
    if (m_closing)
        return;
    failAll(ClientError::ConnectionClosed, QStringLiteral("connection closed by the client"));
    if (m_connected) {
        nghttp2_session_terminate_session(m_session, NGHTTP2_NO_ERROR);
        flush();
    }
    shutDown();
}

void H2ClientConnection::onConnected()
{
    m_connected = true;
    m_connectTime = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - m_connectStartedAt);
    if (!m_socket->isTls())
        m_place = WirePlace{m_socket->localAddress().toIPv4Address(), m_socket->localPort(), 0};
    flush();
    for (const std::int32_t id : std::exchange(m_startsBeforeConnect, {}))
        reportStart(id, std::chrono::microseconds(0));
    emit transportReady();
}

void H2ClientConnection::onReadyRead()
{
    std::array<uint8_t, 16 * 1024> buffer;
    ++m_inCallback;
    while (m_socket && m_socket->bytesAvailable() > 0 && !m_closing) {
        const qint64 n = m_socket->read(reinterpret_cast<char *>(buffer.data()), static_cast<qint64>(buffer.size()));
        if (n <= 0)
            break;
        m_freedDuringRecv = false;
        m_wireBytes += static_cast<std::uint64_t>(n);
        m_recvStart = buffer.data();
        m_recvSize = static_cast<std::size_t>(n);
        const ssize_t rv = nghttp2_session_mem_recv(m_session, buffer.data(), static_cast<size_t>(n));
        m_recvStart = nullptr;
        if (rv < 0) {
            --m_inCallback;
            failAll(ClientError::Protocol, QStringLiteral("bad HTTP/2 data from %1:%2: %3")
                                               .arg(m_host).arg(m_port).arg(QString::fromUtf8(nghttp2_strerror(static_cast<int>(rv)))));
            flush();
            shutDown();
            return;
        }
        // Streams closed: queued requests may start now.
        if (m_freedDuringRecv)
            startQueued();
    }
    --m_inCallback;
    flush();
    if (m_closing) {
        shutDown();
        return;
    }
    if (m_freedDuringRecv) {
        m_freedDuringRecv = false;
        emit capacityFreed();
    }
    if (!nghttp2_session_want_read(m_session) && !nghttp2_session_want_write(m_session)) {
        // nghttp2 ended the session: the peer sent frames that break the protocol, or a
        // GOAWAY completed. Whatever is still open fails.
        if (!m_streams.empty() || !m_queue.empty()) {
            failAll(ClientError::Protocol,
                    QStringLiteral("HTTP/2 session with %1:%2 ended%3").arg(m_host).arg(m_port)
                        .arg(m_lastError.isEmpty() ? QString() : QStringLiteral(": ") + m_lastError));
        }
        shutDown();
        return;
    }
    checkDrained();
}

void H2ClientConnection::checkDrained()
{
    if (m_goAway && m_streams.empty() && m_queue.empty())
        shutDown();
}

void H2ClientConnection::flush()
{
    if (!m_socket || !m_connected)
        return;
    for (;;) {
        for (;;) {
            const uint8_t *data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(m_session, &data);
            if (n <= 0)
                break;
            m_socket->write(reinterpret_cast<const char *>(data), n);
        }
        // Streams we reset close while their RST_STREAM is sent: their slots go to the queue.
        if (m_inCallback == 0 && m_freedDuringRecv && !m_queue.empty() && m_streams.size() < streamLimit()) {
            m_freedDuringRecv = false;
            startQueued();
            continue;
        }
        break;
    }
}

void H2ClientConnection::onDisconnected()
{
    failAll(m_goAway ? ClientError::Refused : ClientError::ConnectionClosed,
            QStringLiteral("%1:%2 closed the HTTP/2 connection").arg(m_host).arg(m_port));
    shutDown();
}

void H2ClientConnection::onError(QAbstractSocket::SocketError error)
{
    if (error == QAbstractSocket::RemoteHostClosedError)
        return;
    const QString why = m_socket ? m_socket->errorString() : QString();
    failAll(m_connected ? ClientError::ConnectionReset : ClientError::ConnectFailed,
            m_connected ? QStringLiteral("HTTP/2 connection to %1:%2 failed: %3").arg(m_host).arg(m_port).arg(why)
                        : QStringLiteral("cannot connect to %1:%2: %3").arg(m_host).arg(m_port).arg(why));
    shutDown();
}

void H2ClientConnection::failAll(ClientError error, const QString &message)
{
    m_closing = true;
    std::deque<Queued> queue;
    queue.swap(m_queue);
    std::unordered_map<std::int32_t, Stream> streams;
    streams.swap(m_streams);
    for (auto &[id, s] : streams) {
        if (s.handler)
            s.handler->responseFailed(error, message);
    }
    for (Queued &q : queue)
        q.handler->responseFailed(error == ClientError::ConnectFailed ? error : ClientError::Refused, message);
}

void H2ClientConnection::shutDown()
{
    m_closing = true;
    if (m_inCallback > 0)
        return; // onReadyRead() finishes the job when nghttp2 has returned
    if (m_socket) {
        ClientTransport *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        emit closed();
    }
}

} // namespace edgesse::http
