#include "core/http/h2serverconnection.h"

#include "core/http/httpserverexchange.h"
#include "core/http/httpserversocket.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <vector>

namespace edgesse::http {

namespace {

constexpr qsizetype kWriteBatch = 64 * 1024;
// Above this much output waiting in user space, nghttp2 is not asked for more frames.
constexpr qint64 kSocketHighWater = 256 * 1024;
// The staging buffer is kept between flushes up to this size (an event to 100 streams fits).
constexpr qsizetype kKeptOutBytes = 32 * 1024;

nghttp2_nv makeNv(const QByteArray &name, const QByteArray &value)
{
    nghttp2_nv nv;
    nv.name = reinterpret_cast<uint8_t *>(const_cast<char *>(name.constData()));
    nv.value = reinterpret_cast<uint8_t *>(const_cast<char *>(value.constData()));
    nv.namelen = static_cast<size_t>(name.size());
    nv.valuelen = static_cast<size_t>(value.size());
    nv.flags = NGHTTP2_NV_FLAG_NONE;
    return nv;
}

} // namespace

class H2ServerExchange final : public HttpServerExchange
{
public:
    H2ServerExchange(H2ServerConnection &connection, std::int32_t streamId)
        : m_connection(connection), m_streamId(streamId)
    {
        m_request.version = HttpVersion::Http2;
    }

    void respond(int status, const HttpHeaders &headers, const QByteArray &body) override
    {
        if (m_finished || m_started)
            return;
        m_started = true;
        m_finished = true;
        m_ended = true;
        if (!body.isEmpty() && m_request.method != "HEAD")
            enqueue(body);
        submit(status, headers, !body.isEmpty() && m_request.method != "HEAD");
    }

    void startStream(int status, const HttpHeaders &headers) override
    {
        if (m_finished || m_started)
            return;
        m_started = true;
        submit(status, headers, true);
    }

    void writeStream(const StreamChunk &chunk) override
    {
        if (m_finished || !m_started || m_dropped || chunk.payload().isEmpty())
            return;
        enqueue(chunk.payload());
        if (m_connection.overQueueLimits(m_queued)) {
            dropSlowConsumer();
            return;
        }
        if (m_queued > kStreamLowWaterBytes)
            m_aboveLowWater = true;
        nghttp2_session_resume_data(m_connection.m_session, m_streamId);
        m_connection.needsFlush();
    }

    // Reset the stream; the handler hears it from the next flush.
    void dropSlowConsumer() override
    {
        if (m_finished || m_dropped)
            return;
        m_dropped = true;
        m_connection.counters().slowConsumersDropped.fetch_add(1, std::memory_order_relaxed);
        dropQueued();
        nghttp2_submit_rst_stream(m_connection.m_session, NGHTTP2_FLAG_NONE, m_streamId, NGHTTP2_CANCEL);
        m_connection.needsFlush();
    }

    void endStream() override
    {
        if (m_finished || !m_started)
            return;
        m_finished = true;
        m_ended = true;
        nghttp2_session_resume_data(m_connection.m_session, m_streamId);
        m_connection.needsFlush();
    }

    qint64 queuedBytes() const override { return m_queued; }

    ssize_t read(uint8_t *buffer, size_t length, uint32_t *flags)
    {
        size_t copied = 0;
        while (copied < length && !m_pending.empty()) {
            const QByteArray &front = m_pending.front();
            const size_t n = std::min(length - copied, static_cast<size_t>(front.size() - m_offset));
            std::memcpy(buffer + copied, front.constData() + m_offset, n);
            copied += n;
            m_offset += static_cast<qsizetype>(n);
            if (m_offset == front.size()) {
                m_pending.pop_front();
                m_offset = 0;
            }
        }
        m_queued -= static_cast<qint64>(copied);
        m_connection.m_streamQueued -= static_cast<qint64>(copied);
        if (m_aboveLowWater && m_queued <= kStreamLowWaterBytes) {
            m_aboveLowWater = false;
            m_connection.m_drained.push_back(m_streamId);
        }
        if (m_pending.empty() && m_ended)
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        else if (copied == 0)
            return NGHTTP2_ERR_DEFERRED;
        return static_cast<ssize_t>(copied);
    }

    void addHeader(const uint8_t *name, size_t nameLength, const uint8_t *value, size_t valueLength)
    {
        m_headerBytes += static_cast<qsizetype>(nameLength + valueLength + 32);
        if (m_headerBytes > m_connection.limits().maxHeaderBytes) {
            m_tooLarge = true;
            return;
        }
        const QByteArray n(reinterpret_cast<const char *>(name), static_cast<qsizetype>(nameLength));
        QByteArray v(reinterpret_cast<const char *>(value), static_cast<qsizetype>(valueLength));
        if (n == ":method")
            m_request.method = std::move(v);
        else if (n == ":path")
            m_request.setTarget(v);
        else if (n == ":authority")
            m_request.authority = std::move(v);
        else if (!n.startsWith(':'))
            m_request.headers.emplace_back(n, std::move(v));
    }

    void addBody(size_t length)
    {
        m_bodyBytes += static_cast<qint64>(length);
        if (m_bodyBytes > m_connection.limits().maxBodyBytes)
            m_bodyTooLarge = true;
    }

    void dropQueued()
    {
        m_connection.m_streamQueued -= m_queued;
        m_queued = 0;
        m_pending.clear();
    }

    bool m_dispatched = false;
    bool m_finished = false;
    bool m_tooLarge = false;
    bool m_bodyTooLarge = false;

private:
    void enqueue(const QByteArray &bytes)
    {
        m_pending.push_back(bytes);
        m_queued += bytes.size();
        m_connection.m_streamQueued += bytes.size();
    }

    void submit(int status, const HttpHeaders &headers, bool withBody)
    {
        const QByteArray statusName = QByteArrayLiteral(":status");
        const QByteArray statusValue = QByteArray::number(status);
        std::vector<nghttp2_nv> nva;
        nva.reserve(headers.size() + 1);
        nva.push_back(makeNv(statusName, statusValue));
        for (const auto &[name, value] : headers)
            nva.push_back(makeNv(name, value));
        nghttp2_data_provider provider;
        provider.source.ptr = this;
        provider.read_callback = [](nghttp2_session *, int32_t, uint8_t *buf, size_t length, uint32_t *flags,
                                    nghttp2_data_source *source, void *) -> ssize_t {
            return static_cast<H2ServerExchange *>(source->ptr)->read(buf, length, flags);
        };
        nghttp2_submit_response(m_connection.m_session, m_streamId, nva.data(), nva.size(),
                                withBody ? &provider : nullptr);
        m_connection.needsFlush();
    }

    H2ServerConnection &m_connection;
    std::int32_t m_streamId = 0;
    std::deque<QByteArray> m_pending;
    qsizetype m_offset = 0;
    qint64 m_queued = 0;
    qint64 m_bodyBytes = 0;
    qsizetype m_headerBytes = 0;
    bool m_started = false;
    bool m_ended = false;
    bool m_dropped = false;
    bool m_aboveLowWater = false;
};

struct H2Callbacks {
    static H2ServerConnection &self(void *user) { return *static_cast<H2ServerConnection *>(user); }

    static H2ServerExchange *stream(H2ServerConnection &c, int32_t id)
    {
        const auto it = c.m_streams.find(id);
        return it == c.m_streams.end() ? nullptr : it->second.get();
    }

    static int onBeginHeaders(nghttp2_session *, const nghttp2_frame *frame, void *user)
    {
        auto &c = self(user);
        if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
            c.m_streams.emplace(frame->hd.stream_id, std::make_unique<H2ServerExchange>(c, frame->hd.stream_id));
        return 0;
    }

    static int onHeader(nghttp2_session *, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t, void *user)
    {
        if (auto *s = stream(self(user), frame->hd.stream_id))
            s->addHeader(name, namelen, value, valuelen);
        return 0;
    }

    static int onDataChunk(nghttp2_session *, uint8_t, int32_t streamId, const uint8_t *, size_t len, void *user)
    {
        if (auto *s = stream(self(user), streamId))
            s->addBody(len);
        return 0;
    }

    static int onFrameRecv(nghttp2_session *, const nghttp2_frame *frame, void *user)
    {
        auto &c = self(user);
        if ((frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA)
            && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)) {
            if (auto *s = stream(c, frame->hd.stream_id); s && !s->m_dispatched)
                c.dispatch(*s);
        }
        return 0;
    }

    static int onFrameSend(nghttp2_session *, const nghttp2_frame *frame, void *user)
    {
        if (frame->hd.type == NGHTTP2_GOAWAY && frame->goaway.error_code != NGHTTP2_NO_ERROR)
            self(user).counters().badRequests.fetch_add(1, std::memory_order_relaxed);
        return 0;
    }

    static int onStreamClose(nghttp2_session *, int32_t streamId, uint32_t, void *user)
    {
        self(user).streamClosed(streamId);
        return 0;
    }
};

H2ServerConnection::H2ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject,
                                       QObject *parent)
    : ServerConnection(context, socket, reject, parent)
{
    counters().http2Connections.fetch_add(1, std::memory_order_relaxed);
    nghttp2_session_callbacks *callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &H2Callbacks::onBeginHeaders);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Callbacks::onHeader);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Callbacks::onDataChunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Callbacks::onFrameRecv);
    nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, &H2Callbacks::onFrameSend);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Callbacks::onStreamClose);
    nghttp2_session_server_new(&m_session, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);

    const nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, limits().maxConcurrentStreams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(limits().maxHeaderBytes)},
    };
    nghttp2_submit_settings(m_session, NGHTTP2_FLAG_NONE, settings, std::size(settings));

    connect(socket, &HttpServerSocket::readyRead, this, &H2ServerConnection::onReadyRead);
    connect(socket, &HttpServerSocket::bytesWritten, this, &H2ServerConnection::sendPending);
    // Until the first request is complete (a preface alone, HEADERS byte by byte).
    armWaitDeadline(limits().requestTimeout, counters().requestTimeouts);
}

H2ServerConnection::~H2ServerConnection()
{
    cancelDeadline();
    nghttp2_session_del(m_session);
}

void H2ServerConnection::start(const DetectedProtocol &detected)
{
    receive(detected.received.constData(), detected.received.size());
}

void H2ServerConnection::flush()
{
    m_dirty = false;
    sendPending();
}

void H2ServerConnection::needsFlush()
{
    if (!m_dirty && !isClosed()) {
        m_dirty = true;
        context().flushRequested(*this);
    }
}

void H2ServerConnection::onReadyRead()
{
    if (isClosed())
        return;
    readAvailable([this](const char *data, qsizetype size) { receive(data, size); });
}

void H2ServerConnection::receive(const char *data, qsizetype size)
{
    if (isClosed() || isClosing())
        return;
    const ssize_t rv = nghttp2_session_mem_recv(m_session, reinterpret_cast<const uint8_t *>(data),
                                                static_cast<size_t>(size));
    if (rv < 0) {
        // Not HTTP/2 after all, or input nghttp2 cannot go on from: say GOAWAY if it queued
        // one and end the connection.
        counters().badRequests.fetch_add(1, std::memory_order_relaxed);
        if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
            nghttp2_session_terminate_session(m_session, NGHTTP2_PROTOCOL_ERROR);
        sendPending();
        closeAfterWrite();
        return;
    }
    sendPending();
}

void H2ServerConnection::dispatch(H2ServerExchange &exchange)
{
    exchange.m_dispatched = true;
    ++m_activeRequests;
    qint64 most = counters().http2StreamsMax.load(std::memory_order_relaxed);
    while (m_activeRequests > most
           && !counters().http2StreamsMax.compare_exchange_weak(most, m_activeRequests, std::memory_order_relaxed)) {
    }
    cancelDeadline();
    counters().requests.fetch_add(1, std::memory_order_relaxed);
    if (exchange.m_tooLarge || exchange.m_bodyTooLarge) {
        counters().badRequests.fetch_add(1, std::memory_order_relaxed);
        exchange.respond(exchange.m_tooLarge ? 431 : 413, {{"content-type", "text/plain; charset=utf-8"}},
                         exchange.m_tooLarge ? QByteArrayLiteral("header fields exceed the server's limit\n")
                                             : QByteArrayLiteral("request body exceeds the server's limit\n"));
        return;
    }
    if (rejecting()) {
        exchange.respond(kRejectStatus, rejectHeaders(exchange.request()), rejectBody());
        if (!m_goawaySubmitted) {
            m_goawaySubmitted = true;
            nghttp2_submit_goaway(m_session, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(m_session),
                                  NGHTTP2_NO_ERROR, nullptr, 0);
        }
        return;
    }
    context().handler().handleRequest(exchange);
}

void H2ServerConnection::streamClosed(std::int32_t streamId)
{
    const auto it = m_streams.find(streamId);
    if (it == m_streams.end())
        return;
    std::unique_ptr<H2ServerExchange> exchange = std::move(it->second);
    m_streams.erase(it);
    exchange->dropQueued();
    if (exchange->m_dispatched) {
        if (!exchange->m_finished)
            context().handler().exchangeAborted(*exchange);
        if (--m_activeRequests == 0 && !isClosing())
            armIdleDeadline();
    }
}

void H2ServerConnection::sendPending()
{
    if (isClosed() || m_sending)
        return;
    m_sending = true;
    for (;;) {
        if (socket()->bytesToWrite() > kSocketHighWater)
            break; // bytesWritten brings us back
        QByteArray &out = m_out;
        out.resize(0); // keeps its capacity: no allocation per flush
        for (;;) {
            const uint8_t *data = nullptr;
            const ssize_t n = nghttp2_session_mem_send(m_session, &data);
            if (n < 0) {
                m_sending = false;
                closeSoon();
                return;
            }
            if (n == 0)
                break;
            out.append(reinterpret_cast<const char *>(data), static_cast<qsizetype>(n));
            if (out.size() >= kWriteBatch)
                break;
        }
        if (out.isEmpty())
            break;
        const qint64 written = socket()->write(out);
        if (written < 0) {
            m_sending = false;
            closeSoon();
            return;
        }
        countSent(written);
        if (out.size() < kWriteBatch)
            break;
    }
    m_sending = false;
    if (m_out.capacity() > kKeptOutBytes)
        m_out = QByteArray(); // a burst's buffer is not kept
    updateQueued();
    notifyDrained();
    if (!isClosed() && !isClosing() && !nghttp2_session_want_read(m_session) && !nghttp2_session_want_write(m_session))
        closeAfterWrite();
}

bool H2ServerConnection::overQueueLimits(qint64 streamQueued) const
{
    const ServerLimits &bounds = limits();
    return streamQueued > bounds.maxQueuedBytesPerStream
        || m_streamQueued + socket()->bytesToWrite() > bounds.maxQueuedBytesPerConnection
        || counters().bytesQueued.load(std::memory_order_relaxed) > bounds.maxQueuedBytesTotal;
}

void H2ServerConnection::notifyDrained()
{
    if (m_drained.empty())
        return;
    std::vector<std::int32_t> drained;
    drained.swap(m_drained);
    for (const std::int32_t id : drained) {
        const auto it = m_streams.find(id);
        if (isClosed() || it == m_streams.end())
            continue;
        H2ServerExchange &exchange = *it->second;
        if (exchange.m_dispatched && !exchange.m_finished)
            context().handler().exchangeDrained(exchange);
    }
}

void H2ServerConnection::shutdown()
{
    if (isClosed())
        return;
    nghttp2_session_terminate_session(m_session, NGHTTP2_NO_ERROR);
    sendPending();
    closeNow();
}

void H2ServerConnection::abortExchanges()
{
    auto streams = std::move(m_streams);
    m_streams.clear();
    for (auto &[id, exchange] : streams) {
        if (exchange->m_dispatched && !exchange->m_finished)
            context().handler().exchangeAborted(*exchange);
    }
    // nghttp2 still points at the exchanges until the session is gone.
    nghttp2_session_del(m_session);
    m_session = nullptr;
    streams.clear();
    m_streamQueued = 0;
}

void H2ServerConnection::updateQueued()
{
    reportQueued(socket()->bytesToWrite() + m_streamQueued);
}

void H2ServerConnection::armIdleDeadline()
{
    armWaitDeadline(limits().idleTimeout, counters().idleTimeouts);
}

void H2ServerConnection::armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired)
{
    armDeadline(timeout, [this, &expired] {
        if (isClosed())
            return;
        expired.fetch_add(1, std::memory_order_relaxed);
        nghttp2_session_terminate_session(m_session, NGHTTP2_NO_ERROR);
        sendPending();
        closeAfterWrite();
    });
}

} // namespace edgesse::http
