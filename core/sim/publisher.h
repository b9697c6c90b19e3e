#pragma once

#include "core/sim/publishlog.h"
#include "core/sim/publishschedule.h"
#include "core/sse/sseevent.h"

#include <QByteArray>

#include <atomic>
#include <chrono>
#include <functional>

namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::sim {

// Emits events on its thread's deadline queue: each gets the next sequence number (also its
// SSE `id`), its publish time (recorded in the PublishLog before it leaves) and the
// payload. Not thread-safe: start and stop it on the thread that owns the queue.
class Publisher
{
public:
    using Sink = std::function<void(const sse::PublishedEvent &)>;

    Publisher(const PublishSettings &settings, QByteArray payload, PublishLog &log, net::DeadlineQueue &deadlines,
              Sink sink);
    ~Publisher();

    void start();
    void stop();
    std::uint64_t published() const { return m_seq; }
    // How often it fell more than kMaxLag behind its schedule (any thread may read it).
    std::uint64_t timesFellBehind() const { return m_fellBehind.load(std::memory_order_relaxed); }

    static constexpr std::chrono::milliseconds kMaxLag{100};

private:
    void scheduleNext();
    void publishOne();

    PublishSchedule m_schedule;
    QByteArray m_payload;
    PublishLog &m_log;
    net::DeadlineQueue &m_deadlines;
    Sink m_sink;
    std::uint64_t m_seq = 0;
    std::uint64_t m_pending = 0; // deadline id, 0 when none
    bool m_running = false;
    std::chrono::steady_clock::time_point m_next;
    std::atomic<std::uint64_t> m_fellBehind{0};
};

} // namespace edgesse::sim
