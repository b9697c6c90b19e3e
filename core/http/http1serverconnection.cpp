#include "core/http/http1serverconnection.h"

#include "core/http/httpserverexchange.h"
#include "core/http/httpserversocket.h"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace bhttp = boost::beast::http;

namespace edgesse::http {

namespace {


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

    qint64 queuedBytes() const override { return m_connection.m_queued; }

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

Http1ServerConnection::Http1ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject,
                                             QObject *parent)
    : ServerConnection(context, socket, reject, parent)
{
    counters().http1Connections.fetch_add(1, std::memory_order_relaxed);
    connect(socket, &HttpServerSocket::readyRead, this, &Http1ServerConnection::onReadyRead);
    connect(socket, &HttpServerSocket::bytesWritten, this, &Http1ServerConnection::onBytesWritten);
    // No request yet (the protocol detector read none, or only its first bytes).
    armWaitDeadline(limits().requestTimeout, counters().requestTimeouts);
}

Http1ServerConnection::~Http1ServerConnection() = default;

void Http1ServerConnection::start(const DetectedProtocol &detected)
{
    m_in = detected.received;
    if (detected.headTimedOut) {
        headTimedOut();
        return;
    }
    processInput();
}

void Http1ServerConnection::abortExchanges()
{
    if (m_exchange && !m_exchange->finished())
        context().handler().exchangeAborted(*m_exchange);
    m_queued = 0;
}

void Http1ServerConnection::onReadyRead()
{
    if (isClosed())
        return;
    const bool open = readAvailable([this](const char *data, qsizetype size) {
        m_in.append(data, size);
        if (m_state != State::Waiting && m_in.size() > limits().maxHeaderBytes)
            closeNow(); // input piling up behind a streaming response: nobody talks like that
    });
    if (open)
        processInput();
}

void Http1ServerConnection::processInput()
{
    if (m_inProcess || isClosed())
        return;
    if (m_state == State::Waiting)
        m_exchange.reset(); // finished; the handler let go of it
    m_inProcess = true;
    while (!isClosed() && m_state == State::Waiting && !m_in.isEmpty()) {
        if (!m_parser) {
            m_parser = std::make_unique<Parser>();
            m_parser->parser.header_limit(static_cast<std::uint32_t>(limits().maxHeaderBytes));
            m_parser->parser.body_limit(static_cast<std::uint64_t>(limits().maxBodyBytes));
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
            counters().badRequests.fetch_add(1, std::memory_order_relaxed);
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
    m_headerDeadline = false;
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
    const bool keepAlive = m_parser->parser.keep_alive() && !rejecting();
    m_parser.reset();

    counters().requests.fetch_add(1, std::memory_order_relaxed);
    m_state = State::Handling;
    m_exchange = std::make_unique<Http1ServerExchange>(*this, std::move(request), keepAlive);
    if (rejecting()) {
        m_exchange->respond(kRejectStatus, rejectHeaders(m_exchange->request()), rejectBody());
        return;
    }
    context().handler().handleRequest(*m_exchange);
}

void Http1ServerConnection::exchangeFinished(bool keepAlive)
{
    // The handler may still be inside a call on the exchange: it is destroyed on the next
    // pass over the input or with the connection, not here.
    if (!keepAlive) {
        closeAfterResponse();
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
    closeAfterResponse();
}

void Http1ServerConnection::headTimedOut()
{
    counters().headerTimeouts.fetch_add(1, std::memory_order_relaxed);
    m_in.clear();
    failRequest(408, "the request head did not arrive within the server's header timeout");
}

qint64 Http1ServerConnection::write(const QByteArray &bytes)
{
    if (isClosed() || isClosing() || m_state == State::Closing)
        return -1;
    const qint64 n = socket()->write(bytes);
    if (n < 0) {
        closeSoon();
        return n;
    }
    countSent(n);
    updateQueued();
    if (m_queued > limits().maxQueuedBytesPerStream
        || (m_queued > 0 && counters().bytesQueued.load(std::memory_order_relaxed) > limits().maxQueuedBytesTotal))
        dropSlowConsumer();
    else if (m_queued > kStreamLowWaterBytes)
        m_aboveLowWater = true;
    return n;
}

void Http1ServerConnection::dropSlowConsumer()
{
    if (isClosed() || m_state == State::Closing)
        return;
    counters().slowConsumersDropped.fetch_add(1, std::memory_order_relaxed);
    m_state = State::Closing;
    closeSoon();
}

void Http1ServerConnection::onBytesWritten()
{
    updateQueued();
    if (!m_aboveLowWater || m_queued > kStreamLowWaterBytes)
        return;
    m_aboveLowWater = false;
    if (!isClosed() && m_state == State::Handling && m_exchange && !m_exchange->finished())
        context().handler().exchangeDrained(*m_exchange);
}

void Http1ServerConnection::closeAfterResponse()
{
    m_state = State::Closing;
    m_headerDeadline = false;
    closeAfterWrite();
}

void Http1ServerConnection::armIdleDeadline()
{
    armWaitDeadline(limits().idleTimeout, counters().idleTimeouts);
}

void Http1ServerConnection::armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired)
{
    m_headerDeadline = false;
    armDeadline(timeout, [this, &expired] {
        expired.fetch_add(1, std::memory_order_relaxed);
        closeNow();
    });
}

void Http1ServerConnection::armHeaderDeadline()
{
    if (m_headerDeadline)
        return;
    m_headerDeadline = true;
    armDeadline(limits().headerTimeout, [this] {
        m_headerDeadline = false;
        headTimedOut();
    });
}

void Http1ServerConnection::updateQueued()
{
    if (isClosed())
        return;
    m_queued = socket()->bytesToWrite();
    reportQueued(m_queued);
}

} // namespace edgesse::http
