#include "core/http/cors.h"

namespace edgesse::http {

HttpHeaders corsHeaders(const HttpRequest &request)
{
    const QByteArray origin = request.header("origin");
    HttpHeaders headers;
    if (origin.isEmpty()) {
        headers.emplace_back("access-control-allow-origin", "*");
    } else {
        headers.emplace_back("access-control-allow-origin", origin);
        headers.emplace_back("access-control-allow-credentials", "true");
        headers.emplace_back("vary", "origin");
    }
    headers.emplace_back("access-control-expose-headers", "edgesse-replay, edgesse-last-id, retry-after");
    return headers;
}

HttpHeaders withCors(const HttpRequest &request, HttpHeaders headers)
{
    for (auto &h : corsHeaders(request))
        headers.push_back(std::move(h));
    return headers;
}

HttpHeaders preflightHeaders(const HttpRequest &request)
{
    QByteArray allowed = "last-event-id, authorization, cache-control, accept, content-type";
    if (const QByteArray asked = request.header("access-control-request-headers").trimmed(); !asked.isEmpty())
        allowed.append(", ").append(asked);
    HttpHeaders headers = corsHeaders(request);
    headers.emplace_back("access-control-allow-methods", "GET, HEAD, POST, OPTIONS");
    headers.emplace_back("access-control-allow-headers", allowed);
    headers.emplace_back("access-control-max-age", "600");
    return headers;
}

} // namespace edgesse::http
