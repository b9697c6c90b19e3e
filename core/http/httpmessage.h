#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <utility>
#include <vector>

namespace edgesse::http {

// Header fields in the order they were sent; names are lowercase (HTTP/2 requires it and
// HTTP/1.1 names are case-insensitive, so the server lowercases them on receipt).
using HttpHeaders = std::vector<std::pair<QByteArray, QByteArray>>;

enum class HttpVersion { Http10, Http11, Http2, Http3 };

struct HttpRequest {
    QByteArray method;
    QByteArray target; // as sent: path and query
    QByteArray path;   // target up to '?'
    QByteArray query;  // after '?', without it
    QByteArray authority; // Host (HTTP/1.1) or :authority (HTTP/2)
    HttpHeaders headers;
    HttpVersion version = HttpVersion::Http11;

    // First value of the field `name` (lowercase), or a null QByteArray.
    QByteArray header(QByteArrayView name) const;
    // Percent-decoded value of query parameter `key`, or a null QByteArray when absent.
    QByteArray queryValue(QByteArrayView key) const;
    void setTarget(const QByteArray &requestTarget);
};

// Reason phrase for a status code ("OK", "Not Found", ...); "Unknown" for others.
QByteArray reasonPhrase(int status);

// One piece of a streamed response body. The same chunk is usually written to many
// streams (fan-out), so the HTTP/1.1 chunked framing is built once, on first use.
class StreamChunk
{
public:
    explicit StreamChunk(QByteArray payload) : m_payload(std::move(payload)) {}
    const QByteArray &payload() const { return m_payload; }
    // "<hex size>\r\n<payload>\r\n"
    const QByteArray &chunked() const;

private:
    QByteArray m_payload;
    mutable QByteArray m_chunked;
};

} // namespace edgesse::http
