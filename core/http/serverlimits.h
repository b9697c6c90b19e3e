#pragma once

#include <QtGlobal>

#include <atomic>
#include <chrono>

namespace edgesse::http {

struct ServerLimits {
    // Request line plus header fields (HTTP/1.1) or the decoded header list (HTTP/2);
    // beyond it the answer is 431.
    qsizetype maxHeaderBytes = 16 * 1024;
    // A request body beyond it is answered with 413 (the server reads and ignores bodies).
    qsizetype maxBodyBytes = 64 * 1024;
    // Timeouts for connections that never complete a request, separate from any gateway a
    // scenario models. From accept until the first request is complete (a connection that
    // sends nothing, an HTTP/2 preface alone, a first HEADERS frame sent byte by byte): closed.
    std::chrono::milliseconds requestTimeout{10'000};
    // From the first byte of a request head to its end (slow-loris guard): 408 and close.
    std::chrono::milliseconds headerTimeout{10'000};
    // A keep-alive connection with no request in progress and nothing streaming (after a
    // response, between polls) is closed after it.
    std::chrono::milliseconds idleTimeout{60'000};
    // SETTINGS_MAX_CONCURRENT_STREAMS announced on HTTP/2 (browsers assume 100).
    quint32 maxConcurrentStreams = 100;
    // Output bounds, in bytes accepted and not yet taken by the kernel. A stream (HTTP/2) or
    // connection (HTTP/1.1) that would queue more than maxQueuedBytesPerStream, an HTTP/2
    // stream whose connection holds more than maxQueuedBytesPerConnection, and any stream
    // with output queued while the whole server holds more than maxQueuedBytesTotal is a
    // slow consumer and is dropped, so stalled readers cannot grow memory without bound.
    qint64 maxQueuedBytesPerStream = 4 * 1024 * 1024;
    qint64 maxQueuedBytesPerConnection = 8 * 1024 * 1024;
    qint64 maxQueuedBytesTotal = 256 * 1024 * 1024;
    // Connections served at once; beyond it every request is answered 503 with
    // Retry-After and the connection closed. 0 means no cap.
    qint64 maxConnections = 0;
    std::chrono::seconds retryAfter{5};
    int listenBacklog = 4096;
};

// Written by the server thread, read from any thread (relaxed atomics, no locks).
struct ServerCounters {
    std::atomic<qint64> connectionsOpen{0};
    std::atomic<qint64> connectionsMax{0};
    std::atomic<qint64> connectionsTotal{0};
    std::atomic<qint64> connectionsRejected{0}; // answered 503 (over the cap)
    std::atomic<qint64> http1Connections{0};
    std::atomic<qint64> http2Connections{0};
    std::atomic<qint64> http2StreamsMax{0};  // the most requests in progress on one HTTP/2 connection
    std::atomic<qint64> requests{0};
    std::atomic<qint64> badRequests{0};      // 400/413/431 and malformed HTTP/2 input
    std::atomic<qint64> headerTimeouts{0};   // 408: a request head too slow
    std::atomic<qint64> requestTimeouts{0};  // closed: no first request within requestTimeout
    std::atomic<qint64> idleTimeouts{0};     // closed: keep-alive idle for idleTimeout
    std::atomic<qint64> slowConsumersDropped{0};
    std::atomic<qint64> acceptPauses{0};     // episodes of accept failing for lack of descriptors
    std::atomic<qint64> bytesReceived{0};
    std::atomic<qint64> bytesSent{0};        // handed to the kernel
    std::atomic<qint64> bytesQueued{0};      // accepted, not yet handed to the kernel
};

} // namespace edgesse::http
