#include "core/http/http1serverconnection.h"

#include "core/http/httpserver.h"
#include "core/net/deadlinequeue.h"

#include "core/http/httpserversocket.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace bhttp = boost::beast::http;

namespace edgesse::http {

namespace {

const QByteArray kHttp2Preface = QByteArrayLiteral("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
constexpr qsizetype kReadChunk = 16 * 1024;

QByteArray statusLine(int status)
{
    return QByteArrayLiteral("HTTP/1.1 ") + QByteArray::number(status) + ' ' + reasonPhrase(status)
        + QByteArrayLiteral("\r\n");
}

void appendHeaders(QByteArray &out, const HttpHeaders &headers)
{
    for (const auto &[name, value] : headers) {
        out.append(name);
        out.append(": ", 2);
        out.append(value);
        out.append("\r\n", 2);
    }
}

} // namespace

struct Http1ServerConnection::Parser {
    bhttp::request_parser<bhttp::string_body> parser;
};

class Http1ServerExchange final : public HttpServerExchange
{
public:
    Http1ServerExchange(Http1ServerConnection &connection, HttpRequest request, bool keepAlive)
        : m_connection(connection), m_keepAlive(keepAlive)
    {
        m_request = std::move(request);
        m_head = m_request.method == "HEAD";
    }

    void respond(int status, const HttpHeaders &headers, const QByteArray &body) override
    {
        if (m_finished || m_streaming)
            return;
        QByteArray out = statusLine(status);
        out.reserve(out.size() + 256 + body.size());
        appendHeaders(out, headers);
        out.append(QByteArrayLiteral("content-length: ") + QByteArray::number(body.size()) + "\r\n");
        if (!m_keepAlive)
            out.append(QByteArrayLiteral("connection: close\r\n"));
        out.append("\r\n", 2);
        if (!m_head)
            out.append(body);
        m_connection.write(out);
        finish();
    }

    void startStream(int status, const HttpHeaders &headers) override
    {
        if (m_finished || m_streaming)
            return;
        m_streaming = true;
        // HTTP/1.0 has no chunked coding: the body ends when the connection does.
        m_chunked = m_request.version == HttpVersion::Http11;
        if (!m_chunked)
            m_keepAlive = false;
        QByteArray out = statusLine(status);
        appendHeaders(out, headers);
        out.append(m_chunked ? QByteArrayLiteral("transfer-encoding: chunked\r\n")
                             : QByteArrayLiteral("connection: close\r\n"));
        out.append("\r\n", 2);
        m_connection.write(out);
        if (m_head)
            endStream();
    }

    void writeStream(const StreamChunk &chunk) override
    {
        if (m_finished || !m_streaming || chunk.payload().isEmpty())
            return;
        m_connection.write(m_chunked ? chunk.chunked() : chunk.payload());
    }

    void endStream() override
    {
        if (m_finished || !m_streaming)
            return;
        if (m_chunked)
            m_connection.write(QByteArrayLiteral("0\r\n\r\n"));
        finish();
    }

    qint64 queuedBytes() const override { return m_connection.m_reportedQueued; }

    void dropSlowConsumer() override
    {
        if (!m_finished)
            m_connection.dropSlowConsumer();
    }

    bool finished() const { return m_finished; }

private:
    void finish()
    {
        m_finished = true;
        m_connection.exchangeFinished(m_keepAlive);
    }

    Http1ServerConnection &m_connection;
    bool m_keepAlive = true;
    bool m_streaming = false;
    bool m_chunked = false;
    bool m_finished = false;
    bool m_head = false;
};

Http1ServerConnection::Http1ServerConnection(HttpServer &server, HttpServerSocket *socket, bool reject)
    : QObject(&server), m_server(server), m_socket(socket), m_reject(reject)
{
    m_socket->setParent(this);
    connect(m_socket, &HttpServerSocket::readyRead, this, &Http1ServerConnection::onReadyRead);
    connect(m_socket, &HttpServerSocket::bytesWritten, this, &Http1ServerConnection::onBytesWritten);
    connect(m_socket, &HttpServerSocket::disconnected, this, &Http1ServerConnection::closeSoon);
    armWaitDeadline(m_server.limits().requestTimeout, m_server.counters().requestTimeouts);
}

Http1ServerConnection::~Http1ServerConnection()
{
    cancelDeadline();
}

void Http1ServerConnection::shutdown()
{
    closeNow();
}

void Http1ServerConnection::onReadyRead()
{
    if (m_closed)
        return;
    char buffer[kReadChunk];
    for (;;) {
        const qint64 n = m_socket->read(buffer, kReadChunk);
        if (n < 0) { // end of stream or error: the peer is gone
            closeNow();
            return;
        }
        if (n == 0)
            break;
        m_server.counters().bytesReceived.fetch_add(n, std::memory_order_relaxed);
        m_in.append(buffer, n);
        if (m_state != State::Waiting && m_in.size() > m_server.limits().maxHeaderBytes) {
            // Input piling up behind a streaming response: nobody talks like that.
            closeNow();
            return;
        }
        if (n < kReadChunk)
            break;
    }
    processInput();
}

void Http1ServerConnection::processInput()
{
    if (m_inProcess || m_closed)
        return;
    if (m_state == State::Waiting)
        m_exchange.reset(); // finished; the handler let go of it
    m_inProcess = true;
    while (!m_closed && m_state == State::Waiting && !m_in.isEmpty()) {
        if (m_sniffing) {
            const qsizetype n = std::min(m_in.size(), kHttp2Preface.size());
            if (QByteArrayView(m_in).first(n) != QByteArrayView(kHttp2Preface).first(n)) {
                m_sniffing = false;
            } else if (m_in.size() < kHttp2Preface.size()) {
                armHeaderDeadline();
                break;
            } else {
                // HTTP/2 with prior knowledge: the socket and its bytes go to an HTTP/2 connection.
                cancelDeadline();
                m_closed = true;
                HttpServerSocket *socket = m_socket;
                m_socket = nullptr;
                socket->disconnect(this);
                m_server.counters().bytesQueued.fetch_sub(m_reportedQueued, std::memory_order_relaxed);
                m_reportedQueued = 0;
                m_server.startHttp2(socket, std::move(m_in), m_reject);
                m_server.connectionFinished(this, false);
                m_inProcess = false;
                return;
            }
        }
        if (!m_parser) {
            m_parser = std::make_unique<Parser>();
            m_parser->parser.header_limit(static_cast<std::uint32_t>(m_server.limits().maxHeaderBytes));
            m_parser->parser.body_limit(static_cast<std::uint64_t>(m_server.limits().maxBodyBytes));
            m_parser->parser.eager(true);
        }
        boost::system::error_code ec;
        const std::size_t used = m_parser->parser.put(
            boost::asio::const_buffer(m_in.constData(), static_cast<std::size_t>(m_in.size())), ec);
        m_in.remove(0, static_cast<qsizetype>(used));
        if (ec == bhttp::error::need_more) {
            armHeaderDeadline();
            break;
        }
        if (ec) {
            m_server.counters().badRequests.fetch_add(1, std::memory_order_relaxed);
            if (ec == bhttp::error::header_limit)
                failRequest(431, "request line and header fields exceed the server's limit");
            else if (ec == bhttp::error::body_limit)
                failRequest(413, "request body exceeds the server's limit");
            else
                failRequest(400, QByteArray::fromStdString("malformed request: " + ec.message()));
            break;
        }
        if (m_parser->parser.is_done())
            dispatch();
        else if (used == 0)
            break;
    }
    m_inProcess = false;
}

void Http1ServerConnection::dispatch()
{
    cancelDeadline();
    const auto &message = m_parser->parser.get();
    HttpRequest request;
    request.method = QByteArray(message.method_string().data(),
                                static_cast<qsizetype>(message.method_string().size()));
    request.setTarget(QByteArray(message.target().data(), static_cast<qsizetype>(message.target().size())));
    request.version = message.version() >= 11 ? HttpVersion::Http11 : HttpVersion::Http10;
    for (const auto &field : message) {
        const auto name = field.name_string();
        const auto value = field.value();
        request.headers.emplace_back(
            QByteArray(name.data(), static_cast<qsizetype>(name.size())).toLower(),
            QByteArray(value.data(), static_cast<qsizetype>(value.size())));
    }
    request.authority = request.header("host");
    const bool keepAlive = m_parser->parser.keep_alive() && !m_reject;
    m_parser.reset();

    auto &counters = m_server.counters();
    counters.requests.fetch_add(1, std::memory_order_relaxed);
    m_state = State::Handling;
    m_exchange = std::make_unique<Http1ServerExchange>(*this, std::move(request), keepAlive);
    if (m_reject) {
        m_exchange->respond(503,
                            {{"retry-after", QByteArray::number(m_server.limits().retryAfter.count())},
                             {"content-type", "text/plain; charset=utf-8"}},
                            QByteArrayLiteral("The server is at its connection limit; retry later.\n"));
        return;
    }
    m_server.handler()->handleRequest(*m_exchange);
}

void Http1ServerConnection::exchangeFinished(bool keepAlive)
{
    // The handler may still be inside a call on the exchange: it is destroyed on the next
    // pass over the input or with the connection, not here.
    if (!keepAlive) {
        closeAfterWrite();
        return;
    }
    m_state = State::Waiting;
    armIdleDeadline();
    if (!m_in.isEmpty() && !m_inProcess)
        QMetaObject::invokeMethod(this, &Http1ServerConnection::processInput, Qt::QueuedConnection);
}

void Http1ServerConnection::failRequest(int status, QByteArrayView why)
{
    QByteArray body = why.toByteArray() + '\n';
    QByteArray out = statusLine(status);
    out.append(QByteArrayLiteral("content-type: text/plain; charset=utf-8\r\nconnection: close\r\ncontent-length: ")
               + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    write(out);
    closeAfterWrite();
}

qint64 Http1ServerConnection::write(const QByteArray &bytes)
{
    if (m_closed || m_state == State::Closing)
        return -1;
    const qint64 n = m_socket->write(bytes);
    if (n < 0) {
        closeSoon();
        return n;
    }
    m_server.counters().bytesSent.fetch_add(n, std::memory_order_relaxed);
    updateQueued();
    const ServerLimits &limits = m_server.limits();
    if (m_reportedQueued > limits.maxQueuedBytesPerStream
        || (m_reportedQueued > 0 && m_server.counters().bytesQueued.load(std::memory_order_relaxed) > limits.maxQueuedBytesTotal))
        dropSlowConsumer();
    else if (m_reportedQueued > kStreamLowWaterBytes)
        m_aboveLowWater = true;
    return n;
}

void Http1ServerConnection::dropSlowConsumer()
{
    if (m_closed || m_state == State::Closing)
        return;
    m_server.counters().slowConsumersDropped.fetch_add(1, std::memory_order_relaxed);
    m_state = State::Closing;
    closeSoon();
}

void Http1ServerConnection::onBytesWritten()
{
    updateQueued();
    if (!m_aboveLowWater || m_reportedQueued > kStreamLowWaterBytes)
        return;
    m_aboveLowWater = false;
    if (!m_closed && m_state == State::Handling && m_exchange && !m_exchange->finished())
        m_server.handler()->exchangeDrained(*m_exchange);
}

void Http1ServerConnection::closeAfterWrite()
{
    if (m_closed)
        return;
    m_state = State::Closing;
    cancelDeadline();
    // Flushes what is queued, then closes; `disconnected` finishes the connection. A peer
    // that never reads is cut off by the idle deadline.
    m_deadline = m_server.deadlines().scheduleAfter(m_server.limits().headerTimeout, [this] {
        m_deadline = 0;
        closeNow();
    });
    m_socket->disconnectFromHost();
}

void Http1ServerConnection::closeSoon()
{
    if (!m_closed)
        QMetaObject::invokeMethod(this, &Http1ServerConnection::closeNow, Qt::QueuedConnection);
}

void Http1ServerConnection::closeNow()
{
    if (m_closed)
        return;
    m_closed = true;
    cancelDeadline();
    if (m_exchange && !m_exchange->finished())
        m_server.handler()->exchangeAborted(*m_exchange);
    m_server.counters().bytesQueued.fetch_sub(m_reportedQueued, std::memory_order_relaxed);
    m_reportedQueued = 0;
    m_socket->disconnect(this);
    m_socket->abort();
    m_server.connectionFinished(this, !m_reject);
}

void Http1ServerConnection::armIdleDeadline()
{
    armWaitDeadline(m_server.limits().idleTimeout, m_server.counters().idleTimeouts);
}

void Http1ServerConnection::armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired)
{
    cancelDeadline();
    m_deadline = m_server.deadlines().scheduleAfter(timeout, [this, &expired] {
        m_deadline = 0;
        expired.fetch_add(1, std::memory_order_relaxed);
        closeNow();
    });
}

void Http1ServerConnection::armHeaderDeadline()
{
    if (m_headerDeadline)
        return;
    cancelDeadline();
    m_headerDeadline = true;
    m_deadline = m_server.deadlines().scheduleAfter(m_server.limits().headerTimeout, [this] {
        m_deadline = 0;
        m_server.counters().headerTimeouts.fetch_add(1, std::memory_order_relaxed);
        m_in.clear();
        failRequest(408, "the request head did not arrive within the server's header timeout");
    });
}

void Http1ServerConnection::cancelDeadline()
{
    if (m_deadline != 0)
        m_server.deadlines().cancel(m_deadline);
    m_deadline = 0;
    m_headerDeadline = false;
}

void Http1ServerConnection::updateQueued()
{
    if (!m_socket)
        return;
    const qint64 queued = m_socket->bytesToWrite();
    if (queued != m_reportedQueued) {
        m_server.counters().bytesQueued.fetch_add(queued - m_reportedQueued, std::memory_order_relaxed);
        m_reportedQueued = queued;
    }
}

} // namespace edgesse::http
