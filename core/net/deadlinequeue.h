#pragma once

#include <QObject>

#include <chrono>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

class QSocketNotifier;

namespace edgesse::net {

// Microsecond scheduling for the data plane: one timerfd per thread and a min-heap of
// deadlines, served by the thread's event loop through a QSocketNotifier. QTimer speaks
// whole milliseconds; a link that delays every chunk by `latency ± jitter` needs better.
// Callbacks with equal deadlines run in the order they were scheduled. One wake-up runs at
// most kMaxPerWakeup callbacks, none scheduled during that wake-up; the rest run on the next
// one, after the thread's other events, so a queue always behind keeps its thread responsive.
// Lives in (and must be used from) one thread; moveToThread() moves it with its notifier.
class DeadlineQueue final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DeadlineQueue)

public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;
    using Id = std::uint64_t;
    static constexpr int kMaxPerWakeup = 256;

    explicit DeadlineQueue(QObject *parent = nullptr);
    ~DeadlineQueue() override;

    // Runs `callback` at `when` (at once, on the next event-loop pass, when `when` is past).
    Id schedule(TimePoint when, std::function<void()> callback);
    Id scheduleAfter(std::chrono::nanoseconds delay, std::function<void()> callback)
    {
        return schedule(Clock::now() + delay, std::move(callback));
    }
    // False when the callback already ran or was cancelled.
    bool cancel(Id id);

    std::size_t pending() const { return m_callbacks.size(); }
    bool isValid() const { return m_fd >= 0; }

private:
    struct Deadline {
        TimePoint when;
        Id id;
    };
    struct Later {
        bool operator()(const Deadline &a, const Deadline &b) const { return a.when > b.when || (a.when == b.when && a.id > b.id); }
    };

    void onExpired();
    void arm();
    void dropCancelledTop();

    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
    std::vector<Deadline> m_heap;
    std::unordered_map<Id, std::function<void()>> m_callbacks;
    Id m_nextId = 1;
    TimePoint m_armedFor = TimePoint::max();
    bool m_dispatching = false;
};

} // namespace edgesse::net
