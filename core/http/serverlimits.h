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
    // From the first byte of a request head to its end (slow-loris guard): 408 and close.
    std::chrono::milliseconds headerTimeout{10'000};
    // A connection with no request in progress and nothing streaming is closed after it.
    std::chrono::milliseconds idleTimeout{60'000};
    // SETTINGS_MAX_CONCURRENT_STREAMS announced on HTTP/2 (browsers assume 100).
    quint32 maxConcurrentStreams = 100;
    // A stream (HTTP/2) or connection (HTTP/1.1) with more output queued than this is a
    // slow consumer and is dropped, so one stalled reader cannot grow memory without bound.
    qint64 maxQueuedBytesPerStream = 4 * 1024 * 1024;
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
    std::atomic<qint64> headerTimeouts{0};
    std::atomic<qint64> slowConsumersDropped{0};
    std::atomic<qint64> bytesReceived{0};
    std::atomic<qint64> bytesSent{0};        // handed to the kernel
    std::atomic<qint64> bytesQueued{0};      // accepted, not yet handed to the kernel
};

} // namespace edgesse::http
