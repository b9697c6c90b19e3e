#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace edgesse::sse {

enum class Engine : std::uint8_t { Chromium, Firefox, WebKit };

// What a browser's own EventSource and network stack do, as their sources say (figures
// checked against Blink's event_source.cc, Gecko's EventSource.cpp and all.js, WebKit's
// EventSource.cpp; the HTTP/2 figures of Firefox and WebKit are Chromium's, unmeasured).
// Browsers reconnect after exactly the reconnection time: no backoff, no jitter; the
// application policies of reconnectpolicy.h are what pages add on top.
struct BrowserProfile {
    const char *name;
    Engine engine;
    std::chrono::milliseconds defaultRetry; // until the server sends `retry:`
    std::chrono::milliseconds minRetry;     // a smaller `retry:` is raised to this (Gecko: 500 ms)
    int connectionsPerHost;                 // HTTP/1.1
    std::uint32_t h2StreamsBeforeSettings;  // streams opened before the server's SETTINGS
    std::uint32_t h2StreamCap;              // never more, whatever the server allows
    // What fails a stream for good (no reconnect): a status other than 200 (a 204 too), a
    // content type other than text/event-stream — and, where true, a charset other than UTF-8.
    bool charsetMustBeUtf8;
    // TLS 1.3 early data (0-RTT) on a resumed session: the first requests go with the ClientHello.
    bool tlsEarlyData;
};

const BrowserProfile &browserProfile(Engine engine);
std::span<const BrowserProfile> browserProfiles();

} // namespace edgesse::sse
