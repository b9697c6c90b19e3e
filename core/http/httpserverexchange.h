#pragma once

#include "core/http/httpmessage.h"

#include <QtGlobal>

#include <cstddef>
#include <limits>

namespace edgesse::http {

// RequestHandler::exchangeDrained() is called when an exchange's queued output falls to this
// or below after a write left it above.
inline constexpr qint64 kStreamLowWaterBytes = 16 * 1024;

// One request and its response, on an HTTP/1.1 connection or an HTTP/2 stream.
// The connection owns it. The handler answers with respond(), or with startStream()
// followed by any number of writeStream() and, optionally, endStream(). After respond() or
// endStream() the exchange belongs to the connection again: the handler must drop its
// pointer. When the exchange ends any other way (peer gone, stream reset, slow consumer,
// server closing) the handler hears it through RequestHandler::exchangeAborted(), never
// from inside one of its own calls on an exchange.
class HttpServerExchange
{
public:
    virtual ~HttpServerExchange() = default;

    const HttpRequest &request() const { return m_request; }

    virtual void respond(int status, const HttpHeaders &headers, const QByteArray &body) = 0;
    // Sends the head of a response whose body has no announced length (chunked on
    // HTTP/1.1, close-delimited for an HTTP/1.0 client, DATA frames on HTTP/2).
    virtual void startStream(int status, const HttpHeaders &headers) = 0;
    // Written at once (HTTP/1.1) or queued for the next HttpServer::flush() (HTTP/2).
    virtual void writeStream(const StreamChunk &chunk) = 0;
    virtual void endStream() = 0;
    // Bytes accepted but not yet handed to the kernel for this exchange.
    virtual qint64 queuedBytes() const = 0;
    // Ends the exchange because its peer does not read fast enough: what is queued is dropped,
    // the stream reset (HTTP/2) or the connection closed (HTTP/1.1), and the drop counted in
    // ServerCounters::slowConsumersDropped. exchangeAborted() follows, as for any abort.
    virtual void dropSlowConsumer() = 0;

    // Free for the handler's bookkeeping (an index into its own tables, say).
    std::size_t handlerSlot = std::numeric_limits<std::size_t>::max();
    int handlerKind = 0;

protected:
    HttpRequest m_request;
};

class RequestHandler
{
public:
    virtual ~RequestHandler() = default;
    // A complete request head arrived (the body of a request, if any, is read and ignored).
    virtual void handleRequest(HttpServerExchange &exchange) = 0;
    // The exchange ends without the handler having finished it; drop every pointer to it.
    virtual void exchangeAborted(HttpServerExchange &exchange) = 0;
    // A streaming exchange's queued output fell to kStreamLowWaterBytes or below (the peer
    // read): a handler holding output back may write more. Never from inside a call of the
    // handler's own on that exchange.
    virtual void exchangeDrained(HttpServerExchange &exchange) { (void)exchange; }
};

} // namespace edgesse::http
