#include "core/http/http1client.h"

#include "core/tls/tlschannel.h"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>

#include <array>
#include <limits>

namespace edgesse::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

QByteArray ResponseHead::header(const QByteArray &name) const
{
    for (const Header &h : headers) {
        if (h.name.compare(name, Qt::CaseInsensitive) == 0)
            return h.value;
    }
    return {};
}

const char *clientErrorName(ClientError error)
{
    switch (error) {
    case ClientError::ConnectFailed: return "connect failed";
    case ClientError::ConnectionClosed: return "connection closed";
    case ClientError::ConnectionReset: return "connection reset";
    case ClientError::Protocol: return "protocol error";
    case ClientError::Refused: return "refused";
    case ClientError::StreamReset: return "stream reset";
    }
    return "error";
}

// Beast's response parser with the body streamed straight to the handler.
class Http1ClientConnection::Parser final : public bhttp::basic_parser<false>
{
public:
    explicit Parser(Http1ClientConnection &owner) : m_owner(owner)
    {
        // An event stream never ends. Not boost::none: Boost 1.74 compares a Content-Length
        // against a disabled limit as if it were exceeded.
        body_limit(std::numeric_limits<std::uint64_t>::max());
        header_limit(64 * 1024);
        eager(true);
    }

    ResponseHead head;
    bool interim = false; // a 1xx informational response: skipped

private:
    void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, beast::error_code &ec) override
    {
        ec = bhttp::error::bad_method; // a response parser never sees a request line
    }
    void on_response_impl(int code, beast::string_view, int, beast::error_code &) override
    {
        head.status = code;
    }
    void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value, beast::error_code &) override
    {
        head.headers.push_back({QByteArray(name.data(), static_cast<qsizetype>(name.size())),
                                QByteArray(value.data(), static_cast<qsizetype>(value.size()))});
    }
    void on_header_impl(beast::error_code &) override
    {
        interim = head.status >= 100 && head.status < 200 && head.status != 101;
        if (!interim)
            m_owner.deliverHead(head);
    }
    void on_body_init_impl(const boost::optional<std::uint64_t> &, beast::error_code &) override {}
    std::size_t on_body_impl(beast::string_view body, beast::error_code &) override
    {
        m_owner.deliverBody(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code &) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, beast::error_code &) override
    {
        m_owner.deliverBody(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(beast::error_code &) override {}

    Http1ClientConnection &m_owner;
};


Http1ClientConnection::Http1ClientConnection(QString host, quint16 port, ClientTls tls, QObject *parent,
                                             const QHostAddress &localAddress)
    : ClientConnection(parent)
    , m_host(std::move(host))
    , m_localAddress(localAddress)
    , m_port(port)
    , m_tls(tls)
{
}

Http1ClientConnection::~Http1ClientConnection()
{
    m_handler = nullptr;
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

bool Http1ClientConnection::isConnected() const
{
    return m_connected;
}

void Http1ClientConnection::submit(const ClientRequest &request, ResponseHandler *handler)
{
    Q_ASSERT(hasCapacity());
    m_handler = handler;
    m_parser = std::make_unique<Parser>(*this);
    m_in.clear();

    QByteArray &out = m_pendingRequest;
    out.clear();
    out.reserve(256);
    out += request.method + ' ' + request.path + " HTTP/1.1\r\nHost: " + request.authority + "\r\n";
    for (const Header &h : request.headers)
        out += h.name + ": " + h.value + "\r\n";
    out += "\r\n";

    StartInfo info;
    info.protocol = ClientProtocol::Http1;
    info.reusedConnection = m_connected;
    m_reusedForRequest = m_connected;
    m_responseBytes = 0;
    if (m_connected) {
        info.requestSentAt = Clock::now();
        writeRequest();
        handler->requestStarted(info);
        return;
    }
    if (!m_socket) {
        m_socket = new ClientTransport(m_tls, tls::alpnHttp1(), this);
        connect(m_socket, &ClientTransport::connected, this, &Http1ClientConnection::onConnected);
        connect(m_socket, &ClientTransport::readyRead, this, &Http1ClientConnection::onReadyRead);
        connect(m_socket, &ClientTransport::disconnected, this, &Http1ClientConnection::onDisconnected);
        connect(m_socket, &ClientTransport::errorOccurred, this, &Http1ClientConnection::onError);
        m_connectStartedAt = Clock::now();
        m_socket->connectToHost(m_host, m_port, m_localAddress);
    }
}

void Http1ClientConnection::onConnected()
{
    m_connected = true;
    const auto now = Clock::now();
    m_connectTime = std::chrono::duration_cast<std::chrono::microseconds>(now - m_connectStartedAt);
    if (!m_socket->isTls())
        m_place = WirePlace{m_socket->localAddress().toIPv4Address(), m_socket->localPort(), 0};
    if (m_handler && !m_pendingRequest.isEmpty()) {
        writeRequest();
        StartInfo info;
        info.protocol = ClientProtocol::Http1;
        info.connectTime = m_connectTime;
        info.requestSentAt = now;
        info.tls = m_socket->isTls();
        info.tlsResumed = m_socket->sessionResumed();
        m_handler->requestStarted(info);
    }
}

void Http1ClientConnection::writeRequest()
{
    m_socket->write(m_pendingRequest);
    m_pendingRequest.clear();
}

bool Http1ClientConnection::cancel(ResponseHandler *handler)
{
    if (!handler || handler != m_handler)
        return false;
    // A response cannot be abandoned mid-body on HTTP/1.1: the connection goes with it.
    m_handler = nullptr;
    shutDown();
    return true;
}

void Http1ClientConnection::close()
{
    if (m_handler)
        fail(ClientError::ConnectionClosed, QStringLiteral("connection closed by the client"));
    shutDown();
}

void Http1ClientConnection::onReadyRead()
{
    std::array<char, 16 * 1024> buffer;
    while (m_socket && m_socket->bytesAvailable() > 0 && !m_closing) {
        const qint64 n = m_socket->read(buffer.data(), static_cast<qint64>(buffer.size()));
        if (n <= 0)
            break;
        feed(buffer.data(), static_cast<std::size_t>(n));
    }
}

void Http1ClientConnection::feed(const char *data, std::size_t size)
{
    m_responseBytes += size;
    m_wireBytes += size;
    if (!m_handler || !m_parser) {
        fail(ClientError::Protocol, QStringLiteral("the server sent %1 bytes with no request outstanding").arg(size));
        shutDown();
        return;
    }
    const char *p = data;
    std::size_t left = size;
    if (!m_in.isEmpty()) {
        m_in.append(data, static_cast<qsizetype>(size));
        p = m_in.constData();
        left = static_cast<std::size_t>(m_in.size());
    }
    const QByteArray keep = m_in; // keeps `p` valid while m_in changes below
    m_feedStart = p;
    m_feedSize = left;
    m_feedOffset = m_wireBytes - left;

    m_inFeed = true;
    while (left > 0 && m_handler && !m_closing) {
        beast::error_code ec;
        const std::size_t used = m_parser->put(boost::asio::const_buffer(p, left), ec);
        p += used;
        left -= used;
        if (ec == bhttp::error::need_more)
            break;
        if (ec) {
            m_inFeed = false;
            fail(ClientError::Protocol, QStringLiteral("malformed HTTP/1.1 response from %1:%2: %3")
                                            .arg(m_host).arg(m_port).arg(QString::fromStdString(ec.message())));
            shutDown();
            return;
        }
        if (!m_handler || m_closing)
            break; // cancelled from a callback
        if (m_parser->is_done()) {
            if (m_parser->interim) {
                m_parser = std::make_unique<Parser>(*this);
                continue;
            }
            m_inFeed = false;
            if (left > 0) {
                fail(ClientError::Protocol, QStringLiteral("%1 unexpected bytes after the response from %2:%3")
                                                .arg(left).arg(m_host).arg(m_port));
                shutDown();
                return;
            }
            finishResponse();
            return;
        }
        if (used == 0)
            break;
    }
    m_inFeed = false;
    if (m_closing || !m_handler) {
        shutDown();
        return;
    }
    m_in = QByteArray(p, static_cast<qsizetype>(left));
}

void Http1ClientConnection::deliverHead(const ResponseHead &head)
{
    if (m_handler)
        m_handler->responseHeadReceived(head);
}

void Http1ClientConnection::deliverBody(const char *data, std::size_t size)
{
    if (!m_handler)
        return;
    // Beast hands the body out of the buffer it was given, so its place on the wire is known.
    if (m_place.localPort != 0 && data >= m_feedStart && data + size <= m_feedStart + m_feedSize) {
        WirePlace place = m_place;
        place.offset = m_feedOffset + static_cast<std::uint64_t>(data - m_feedStart);
        m_handler->responseDataPlaced(place);
    }
    m_handler->responseDataReceived(data, size);
}

void Http1ClientConnection::finishResponse()
{
    const bool keepAlive = m_parser->keep_alive();
    ResponseHandler *handler = m_handler;
    m_handler = nullptr;
    m_parser.reset();
    m_in.clear();
    ++m_responsesCompleted;
    if (!keepAlive)
        m_closing = true;
    if (handler)
        handler->responseCompleted();
    if (keepAlive && !m_closing)
        emit capacityFreed();
    else
        shutDown();
}

void Http1ClientConnection::onDisconnected()
{
    if (m_handler && m_parser && m_parser->need_eof() && m_parser->is_header_done()) {
        // A close-delimited body ends here.
        beast::error_code ec;
        m_parser->put_eof(ec);
        if (!ec) {
            m_closing = true;
            finishResponse();
            return;
        }
    }
    if (m_handler && m_reusedForRequest && m_responseBytes == 0) {
        // A kept-alive connection the server closed as the request went out: the server
        // never saw it, so it may go again on a fresh connection (as browsers do).
        fail(ClientError::Refused, QStringLiteral("%1:%2 closed an idle kept-alive connection").arg(m_host).arg(m_port));
    } else if (m_handler) {
        const bool anyResponse = m_parser && m_parser->is_header_done();
        fail(ClientError::ConnectionClosed,
             anyResponse ? QStringLiteral("%1:%2 closed the connection before the response ended").arg(m_host).arg(m_port)
                         : QStringLiteral("%1:%2 closed the connection without a response").arg(m_host).arg(m_port));
    }
    shutDown();
}

void Http1ClientConnection::onError(QAbstractSocket::SocketError error)
{
    if (error == QAbstractSocket::RemoteHostClosedError)
        return; // onDisconnected handles an orderly close
    const QString why = m_socket ? m_socket->errorString() : QString();
    if (m_handler) {
        if (!m_connected)
            fail(ClientError::ConnectFailed, QStringLiteral("cannot connect to %1:%2: %3").arg(m_host).arg(m_port).arg(why));
        else
            fail(ClientError::ConnectionReset, QStringLiteral("connection to %1:%2 failed: %3").arg(m_host).arg(m_port).arg(why));
    }
    shutDown();
}

void Http1ClientConnection::fail(ClientError error, const QString &message)
{
    ResponseHandler *handler = m_handler;
    m_handler = nullptr;
    m_closing = true;
    if (handler)
        handler->responseFailed(error, message);
}

void Http1ClientConnection::shutDown()
{
    m_closing = true;
    m_handler = nullptr;
    if (m_inFeed)
        return; // feed() calls back here once Beast has returned
    m_parser.reset();
    if (m_socket) {
        ClientTransport *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    m_connected = false;
    if (!m_closedEmitted) {
        m_closedEmitted = true;
        emit closed();
    }
}

} // namespace edgesse::http
