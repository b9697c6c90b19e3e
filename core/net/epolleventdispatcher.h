#pragma once

#include <QAbstractEventDispatcher>

#include <atomic>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace edgesse::net {

// A QAbstractEventDispatcher on epoll, timerfd and eventfd whose wake-up cost does not
// grow with the number of idle sockets (Qt's stock dispatchers poll every notifier on every
// pass). Socket notifiers are level-triggered, as QSocketNotifier expects; timers live in a
// min-heap and keep Qt's Precise/Coarse/VeryCoarse rules. Install it with
// QThread::setEventDispatcher() before the thread starts (or before QCoreApplication exists
// for the main thread); all methods except wakeUp() and interrupt() run on that thread.
class EpollEventDispatcher final : public QAbstractEventDispatcher
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EpollEventDispatcher)

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False when the kernel refused an epoll, timerfd or eventfd descriptor (for instance
    // because the process ran out of descriptors); such a dispatcher never blocks.
    bool isValid() const { return m_epollFd >= 0 && m_controlEpollFd >= 0 && m_wakeFd >= 0 && m_timerFd >= 0; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    struct FdEntry {
        QSocketNotifier *notifiers[3] = {nullptr, nullptr, nullptr}; // Read, Write, Exception
        std::uint32_t registered = 0; // epoll events the kernel watches for this fd
        std::uint8_t pending = 0;     // notifier types queued in m_pending
        bool dirty = false;           // in m_dirty: wanted() differs from registered
        bool alwaysReady = false;     // epoll refused it (regular file): poll(2) calls it ready
    };
    struct Timer {
        int id = 0;
        qint64 interval = 0; // milliseconds; whole seconds for VeryCoarseTimer, as Qt keeps it
        Qt::TimerType type = Qt::CoarseTimer;
        QObject *object = nullptr;
        std::int64_t timeoutNs = 0; // CLOCK_MONOTONIC
        std::uint64_t sequence = 0; // insertion order among equal timeouts
        std::uint64_t pass = 0;     // last activation pass that handled it
        std::size_t heapIndex = 0;
        bool activating = false; // its QTimerEvent is being delivered
    };

    static std::uint32_t wantedEvents(const FdEntry &entry);
    FdEntry &entryFor(int fd);
    void markDirty(int fd, FdEntry &entry);
    void applyChanges(bool probeWrites);
    void syncFd(int fd, FdEntry &entry, bool probeWrites);
    int gatherSocketEvents(int fd, std::uint32_t events);
    int activateSocketNotifiers();

    bool heapLess(const Timer *a, const Timer *b) const;
    void heapPush(Timer *timer);
    void heapRemove(Timer *timer);
    void heapSiftUp(std::size_t index);
    void heapSiftDown(std::size_t index);
    void heapPlace(std::size_t index, Timer *timer);
    const Timer *nextWaitingTimer() const;
    void computeFirstTimeout(Timer &timer, std::int64_t nowNs) const;
    void computeNextTimeout(Timer &timer, std::int64_t nowNs) const;
    void removeTimer(std::unordered_map<int, Timer>::iterator it);
    void armTimerFd(std::int64_t deadlineNs);
    int activateTimers();
    void drainWakeUps();

    int m_epollFd = -1;
    int m_controlEpollFd = -1; // the wake-up and timer descriptors only: for ExcludeSocketNotifiers
    int m_wakeFd = -1;
    int m_timerFd = -1;

    std::vector<FdEntry> m_fds; // indexed by descriptor
    std::vector<int> m_dirty;
    std::vector<int> m_applying;
    std::vector<int> m_alwaysReady;
    std::vector<QSocketNotifier *> m_pending; // shared with nested processEvents calls
    std::size_t m_pendingHead = 0;

    std::unordered_map<int, Timer> m_timers; // node-based: Timer addresses are stable
    std::unordered_map<QObject *, std::vector<int>> m_timersByObject;
    std::vector<Timer *> m_heap;
    std::uint64_t m_timerSequence = 0;
    std::uint64_t m_timerPass = 0;
    std::int64_t m_timerFdArmedNs = -1; // -1: disarmed

    std::atomic<bool> m_wakeUpPending{false};
    std::atomic<bool> m_interrupted{false};
};

} // namespace edgesse::net
