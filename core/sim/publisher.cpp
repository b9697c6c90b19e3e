#include "core/sim/publisher.h"

#include "core/net/deadlinequeue.h"

namespace edgesse::sim {

Publisher::Publisher(const PublishSettings &settings, QByteArray payload, PublishLog &log,
                     net::DeadlineQueue &deadlines, Sink sink)
    : m_schedule(settings)
    , m_payload(std::move(payload))
    , m_log(log)
    , m_deadlines(deadlines)
    , m_sink(std::move(sink))
{
}

Publisher::~Publisher()
{
    stop();
}

void Publisher::start()
{
    if (m_running)
        return;
    m_running = true;
    m_next = std::chrono::steady_clock::now();
    scheduleNext();
}

void Publisher::stop()
{
    m_running = false;
    if (m_pending)
        m_deadlines.cancel(m_pending);
    m_pending = 0;
}

void Publisher::scheduleNext()
{
    // Deadlines follow the schedule, not the previous firing, so lateness never accumulates.
    // A publisher more than kMaxLag behind (the machine cannot keep its rate) starts the
    // schedule again from now rather than publishing the backlog in one burst; the rate it
    // achieved is measured from what it published.
    m_next += m_schedule.nextGap();
    if (const auto now = std::chrono::steady_clock::now(); m_next < now - kMaxLag) {
        m_next = now;
        m_fellBehind.fetch_add(1, std::memory_order_relaxed);
    }
    m_pending = m_deadlines.schedule(m_next, [this] {
        m_pending = 0;
        publishOne();
        if (m_running && !m_pending)
            scheduleNext();
    });
}

void Publisher::publishOne()
{
    sse::PublishedEvent event;
    event.seq = ++m_seq;
    event.publishedAt = std::chrono::steady_clock::now();
    event.event.id = QByteArray::number(quint64(event.seq));
    event.event.data = m_payload;
    m_log.record(event.seq, event.publishedAt);
    m_sink(event);
}

} // namespace edgesse::sim
