#pragma once

#include "core/http/httpmessage.h"

namespace edgesse::http {

// CORS as pages need it. A request with an Origin gets that origin back with
// credentials allowed (what `new EventSource(url, {withCredentials: true})` and
// `fetch(url, {credentials: 'include'})` require: never "*"), and `vary: origin`; a request
// without one gets "*". The headers a page may read from script are exposed.
HttpHeaders corsHeaders(const HttpRequest &request);
// `headers` with corsHeaders(request) added.
HttpHeaders withCors(const HttpRequest &request, HttpHeaders headers);
// The answer to an OPTIONS preflight (sent with status 204): the methods served and the
// request headers an EventSource or a fetch-based client sends (last-event-id,
// authorization, cache-control, and whatever else the preflight asks for).
HttpHeaders preflightHeaders(const HttpRequest &request);

} // namespace edgesse::http
