#include "core/net/deadlinequeue.h"

#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <sys/timerfd.h>
#include <unistd.h>

namespace edgesse::net {

DeadlineQueue::DeadlineQueue(QObject *parent) : QObject(parent), m_fd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC))
{
    if (m_fd < 0) {
        qWarning("DeadlineQueue: timerfd_create failed (errno %d); data-plane timing is unavailable", errno);
        return;
    }
    m_notifier = new QSocketNotifier(static_cast<qintptr>(m_fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &DeadlineQueue::onExpired);
}

DeadlineQueue::~DeadlineQueue()
{
    delete m_notifier;
    if (m_fd >= 0)
        ::close(m_fd);
}

DeadlineQueue::Id DeadlineQueue::schedule(TimePoint when, std::function<void()> callback)
{
    const Id id = m_nextId++;
    m_callbacks.emplace(id, std::move(callback));
    m_heap.push_back({when, id});
    std::push_heap(m_heap.begin(), m_heap.end(), Later{});
    if (!m_dispatching && when < m_armedFor)
        arm();
    return id;
}

bool DeadlineQueue::cancel(Id id)
{
    // The heap entry stays until it reaches the top; dropCancelledTop() discards it.
    return m_callbacks.erase(id) > 0;
}

void DeadlineQueue::dropCancelledTop()
{
    while (!m_heap.empty() && !m_callbacks.contains(m_heap.front().id)) {
        std::pop_heap(m_heap.begin(), m_heap.end(), Later{});
        m_heap.pop_back();
    }
}

void DeadlineQueue::arm()
{
    dropCancelledTop();
    itimerspec spec{};
    if (m_heap.empty()) {
        m_armedFor = TimePoint::max();
    } else {
        m_armedFor = m_heap.front().when;
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(m_armedFor.time_since_epoch()).count();
        if (ns <= 0)
            ns = 1; // zero would disarm the timer
        spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    // steady_clock is CLOCK_MONOTONIC on Linux, so deadlines are absolute timerfd times.
    ::timerfd_settime(m_fd, TFD_TIMER_ABSTIME, &spec, nullptr);
}

void DeadlineQueue::onExpired()
{
    std::uint64_t expirations = 0;
    [[maybe_unused]] const auto n = ::read(m_fd, &expirations, sizeof expirations);

    m_dispatching = true;
    // Only deadlines scheduled before this wake-up, kMaxPerWakeup at most, run now: one that
    // a callback schedules for a time already past (a publisher behind its schedule) waits
    // for the next wake-up, after the thread's other events, instead of holding the thread.
    const Id firstScheduledNow = m_nextId;
    TimePoint now = Clock::now();
    for (int served = 0; served < kMaxPerWakeup; ++served) {
        dropCancelledTop();
        if (m_heap.empty() || m_heap.front().id >= firstScheduledNow)
            break;
        if (m_heap.front().when > now) {
            now = Clock::now();
            if (m_heap.front().when > now)
                break;
        }
        const Id id = m_heap.front().id;
        std::pop_heap(m_heap.begin(), m_heap.end(), Later{});
        m_heap.pop_back();
        auto it = m_callbacks.find(id);
        std::function<void()> callback = std::move(it->second);
        m_callbacks.erase(it);
        callback();
    }
    m_dispatching = false;
    m_armedFor = TimePoint::max();
    arm();
}

} // namespace edgesse::net
