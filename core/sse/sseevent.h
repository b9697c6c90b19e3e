#pragma once

#include <QByteArray>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::sse {

// One Server-Sent Event as it travels on the wire.
struct Event {
    QByteArray id;   // the `id` field; the publisher writes its decimal sequence number
    QByteArray type; // the `event` field; empty means "message"
    QByteArray data; // the `data` lines joined with LF
    std::optional<std::chrono::milliseconds> retry;
};

// What the origin's publisher emits (and an edge relay forwards): the event plus the
// sequence number and publish time that latency and exactly-once accounting are
// measured against. One process, one clock: latency = receipt - publishedAt.
struct PublishedEvent {
    std::uint64_t seq = 0;
    std::chrono::steady_clock::time_point publishedAt;
    Event event;
};

} // namespace edgesse::sse
