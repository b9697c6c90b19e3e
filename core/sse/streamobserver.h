#pragma once

#include "core/sse/sseevent.h"

#include <QByteArray>
#include <QtGlobal>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::sse {

using Clock = std::chrono::steady_clock;

// Why a stream's connection ended. The client sees only how the bytes stopped; the cause is
// classified from that plus the hints in the stream's configuration (see
// EventSourceConfig::idleReapAfter / maxDurationAfter), and the raw facts travel alongside
// in Disconnect so an observer can re-classify.
enum class DisconnectCause : std::uint8_t {
    ServerClose, // the response ended cleanly (EOF / END_STREAM / close-delimited end)
    IdleReap,    // ended after no byte for at least the configured idle hint
    MaxDuration, // ended once the connection had lived the configured max-duration hint
    Error,       // connect failure, reset, protocol error, malformed response
    Non200,      // status other than 200, 204, or a wrong content type: the stream fails
    Closed,      // closed by its owner (close() / shutdown), not by the network
};

const char *disconnectCauseName(DisconnectCause cause);

enum class Protocol : std::uint8_t { Http1, Http2, Http3 };

struct ConnectInfo {
    std::uint32_t attempt = 0;                 // 0 for the first connection, then 1, 2, ...
    Protocol protocol = Protocol::Http1;
    bool reusedConnection = false;             // an open connection carried the request
    std::chrono::microseconds connectTime{0};  // TCP connect (0 when reused)
    std::chrono::microseconds starvedFor{0};   // waited for a free connection / stream slot
};

struct Disconnect {
    DisconnectCause cause = DisconnectCause::Error;
    bool willReconnect = false;
    std::chrono::milliseconds reconnectDelay{0}; // valid when willReconnect
    int httpStatus = 0;                          // 0 when no response head arrived
    std::chrono::microseconds connectionAge{0};  // since the response head (0 if none)
    std::chrono::microseconds sinceLastByte{0};
    QByteArray message;                          // human-readable detail, UTF-8
};

// One event as a stream received it. `seq` is the decimal `id` parsed (the publisher writes
// its sequence number there); empty for a non-numeric or missing id — such events still count.
// `wire`: where the event's last byte lay on its connection (local address and port, and
// its offset among the bytes the connection received), so a link's release log can say what
// the model meant for it; empty where that is not known (TLS, a real browser, polling).
struct WireByte {
    quint32 localIPv4 = 0;
    quint16 localPort = 0;
    std::uint64_t offset = 0;
};

struct ReceivedEvent {
    const Event &event;
    std::optional<std::uint64_t> seq;
    Clock::time_point receivedAt;
    std::optional<WireByte> wire = std::nullopt;
};

// How a stream reports what happened to it, without a Qt signal per event. Every method is
// called on the thread that owns the stream, synchronously, so an implementation records
// into thread-local or lock-free structures and returns quickly. `stream` is the tag the
// owner gave the stream when creating it. Events come in receipt order.
class StreamObserver
{
public:
    virtual ~StreamObserver() = default;

    // The request could not start for lack of a connection (HTTP/1.1: all 6 busy) or a
    // stream slot (HTTP/2: the server's SETTINGS_MAX_CONCURRENT_STREAMS reached).
    virtual void streamStarved(std::uint64_t stream, Clock::time_point since)
    {
        (void)stream; (void)since;
    }
    virtual void streamConnected(std::uint64_t stream, const ConnectInfo &info)
    {
        (void)stream; (void)info;
    }
    // Response head received with status 200 and text/event-stream. `timeToFirstByte` runs
    // from the request being written to the first response byte.
    virtual void streamOpened(std::uint64_t stream, std::chrono::microseconds timeToFirstByte)
    {
        (void)stream; (void)timeToFirstByte;
    }
    // Once per connection attempt; measured from the moment the stream asked for a
    // connection (so it includes starvation, connect and time to first byte).
    virtual void firstEventReceived(std::uint64_t stream, std::chrono::microseconds timeToFirstEvent)
    {
        (void)stream; (void)timeToFirstEvent;
    }
    virtual void eventReceived(std::uint64_t stream, const ReceivedEvent &event) = 0;
    // A comment line (heartbeat); `bytes` counts the line with its terminator.
    virtual void commentReceived(std::uint64_t stream, std::size_t bytes)
    {
        (void)stream; (void)bytes;
    }
    virtual void bytesReceived(std::uint64_t stream, std::size_t bytes)
    {
        (void)stream; (void)bytes;
    }
    // The connection ended; `willReconnect` tells whether the stream tries again.
    virtual void streamDisconnected(std::uint64_t stream, const Disconnect &disconnect)
    {
        (void)stream; (void)disconnect;
    }
    // Polling only: one request/response cycle finished (`events` may be 0).
    virtual void pollCompleted(std::uint64_t stream, std::chrono::microseconds duration, std::size_t events)
    {
        (void)stream; (void)duration; (void)events;
    }
};

} // namespace edgesse::sse
