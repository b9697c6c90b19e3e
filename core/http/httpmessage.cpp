#include "core/http/httpmessage.h"

#include <QStringBuilder>

namespace edgesse::http {

QByteArray HttpRequest::header(QByteArrayView name) const
{
    for (const auto &[n, v] : headers) {
        if (n == name)
            return v;
    }
    return {};
}

QByteArray HttpRequest::queryValue(QByteArrayView key) const
{
    qsizetype start = 0;
    while (start <= query.size()) {
        qsizetype end = query.indexOf('&', start);
        if (end < 0)
            end = query.size();
        const QByteArrayView pair = QByteArrayView(query).sliced(start, end - start);
        const qsizetype eq = pair.indexOf('=');
        const QByteArrayView k = eq < 0 ? pair : pair.first(eq);
        if (k == key) {
            if (eq < 0)
                return QByteArray("");
            QByteArray value = pair.sliced(eq + 1).toByteArray();
            value.replace('+', ' ');
            return QByteArray::fromPercentEncoding(value);
        }
        start = end + 1;
    }
    return {};
}

void HttpRequest::setTarget(const QByteArray &requestTarget)
{
    target = requestTarget;
    const qsizetype q = target.indexOf('?');
    path = q < 0 ? target : target.left(q);
    query = q < 0 ? QByteArray() : target.mid(q + 1);
}

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 200: return QByteArrayLiteral("OK");
    case 204: return QByteArrayLiteral("No Content");
    case 400: return QByteArrayLiteral("Bad Request");
    case 404: return QByteArrayLiteral("Not Found");
    case 405: return QByteArrayLiteral("Method Not Allowed");
    case 408: return QByteArrayLiteral("Request Timeout");
    case 413: return QByteArrayLiteral("Content Too Large");
    case 431: return QByteArrayLiteral("Request Header Fields Too Large");
    case 500: return QByteArrayLiteral("Internal Server Error");
    case 503: return QByteArrayLiteral("Service Unavailable");
    case 505: return QByteArrayLiteral("HTTP Version Not Supported");
    default: return QByteArrayLiteral("Unknown");
    }
}

const QByteArray &StreamChunk::chunked() const
{
    if (m_chunked.isEmpty() && !m_payload.isEmpty()) {
        m_chunked.reserve(m_payload.size() + 12);
        m_chunked.append(QByteArray::number(m_payload.size(), 16));
        m_chunked.append("\r\n", 2);
        m_chunked.append(m_payload);
        m_chunked.append("\r\n", 2);
    }
    return m_chunked;
}

} // namespace edgesse::http
