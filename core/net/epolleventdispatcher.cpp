#include "core/net/epolleventdispatcher.h"

#include <QCoreApplication>
#include <QSocketNotifier>
#include <QTimerEvent>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace edgesse::net {

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr int kMaxEventsPerWait = 256;

// What each notifier type asks the kernel for, and which reported events wake it (the same
// mapping Qt's poll(2) dispatcher uses: hang-ups and errors wake every type).
constexpr std::uint32_t kRequested[3] = {EPOLLIN, EPOLLOUT, EPOLLPRI};
constexpr std::uint32_t kDelivered[3] = {EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR,
                                         EPOLLOUT | EPOLLHUP | EPOLLERR,
                                         EPOLLPRI | EPOLLHUP | EPOLLERR};

std::int64_t monotonicNs()
{
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

int typeIndex(const QSocketNotifier *notifier)
{
    return static_cast<int>(notifier->type());
}

const char *typeName(int type)
{
    static const char *const names[] = {"Read", "Write", "Exception"};
    return names[type];
}

// Qt's coarse-timer rule: move the timeout by at most 5% of the interval so that timers wake
// together on round fractions of a second (even ms under 40 ms, multiples of 4 ms under
// 100 ms, otherwise the roundest of 0/500/250/200/100/50/25 ms within reach).
std::int64_t coarseTimeout(std::int64_t timeoutNs, qint64 intervalMs, std::int64_t nowNs)
{
    const std::int64_t seconds = timeoutNs / kNsPerSecond;
    auto msec = static_cast<std::int64_t>(timeoutNs % kNsPerSecond / kNsPerMs);
    const std::int64_t reach = intervalMs / 20;

    if (intervalMs < 100 && intervalMs != 25 && intervalMs != 50 && intervalMs != 75) {
        // Even milliseconds (multiples of 4 from 50 ms), leaning towards round 50/100 ms marks.
        const int shift = intervalMs < 50 ? 1 : 2;
        const bool up = intervalMs < 50 ? msec % 50 >= 25 : msec % 100 >= 50;
        msec = ((msec >> shift) | (up ? 1 : 0)) << shift;
    } else {
        const std::int64_t lowest = std::max<std::int64_t>(0, msec - reach);
        const std::int64_t highest = std::min<std::int64_t>(1000, msec + reach);
        if (lowest == 0) {
            msec = 0;
        } else if (highest == 1000) {
            msec = 1000;
        } else {
            std::int64_t boundary = 25;
            bool done = false;
            if (intervalMs % 500 == 0) {
                if (intervalMs >= 5000) {
                    msec = msec >= 500 ? highest : lowest;
                    done = true;
                } else {
                    boundary = 500;
                }
            } else if (intervalMs % 50 == 0) {
                const qint64 fifties = intervalMs / 50;
                boundary = fifties % 4 == 0 ? 200 : fifties % 2 == 0 ? 100 : fifties % 5 == 0 ? 250 : 50;
            }
            if (!done) {
                const std::int64_t base = msec / boundary * boundary;
                msec = msec < base + boundary / 2 ? std::max(base, lowest) : std::min(base + boundary, highest);
            }
        }
    }

    std::int64_t result = seconds * kNsPerSecond + msec * kNsPerMs;
    if (result < nowNs)
        result += intervalMs * kNsPerMs;
    return result;
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_epollFd(::epoll_create1(EPOLL_CLOEXEC))
    , m_controlEpollFd(::epoll_create1(EPOLL_CLOEXEC))
    , m_wakeFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
    , m_timerFd(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC))
{
    if (!isValid()) {
        qWarning("EpollEventDispatcher: cannot create its epoll/eventfd/timerfd descriptors (%s); "
                 "raise the descriptor limit (ulimit -n)",
                 std::strerror(errno));
        return;
    }
    for (const int epollFd : {m_epollFd, m_controlEpollFd}) {
        for (const int fd : {m_wakeFd, m_timerFd}) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            ::epoll_ctl(epollFd, EPOLL_CTL_ADD, fd, &ev);
        }
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    for (const int fd : {m_epollFd, m_controlEpollFd, m_wakeFd, m_timerFd}) {
        if (fd >= 0)
            ::close(fd);
    }
}

// ---- socket notifiers ------------------------------------------------------------------

std::uint32_t EpollEventDispatcher::wantedEvents(const FdEntry &entry)
{
    std::uint32_t events = 0;
    for (int type = 0; type < 3; ++type) {
        if (entry.notifiers[type])
            events |= kRequested[type];
    }
    return events;
}

EpollEventDispatcher::FdEntry &EpollEventDispatcher::entryFor(int fd)
{
    const auto index = static_cast<std::size_t>(fd);
    if (index >= m_fds.size())
        m_fds.resize(std::max(index + 1, m_fds.size() * 2));
    return m_fds[index];
}

void EpollEventDispatcher::markDirty(int fd, FdEntry &entry)
{
    if (!entry.dirty) {
        entry.dirty = true;
        m_dirty.push_back(fd);
    }
}

// Interest changes are batched until the next wait, so a notifier enabled and disabled in
// the same pass costs no system call.
void EpollEventDispatcher::applyChanges(bool probeWrites)
{
    m_applying.swap(m_dirty);
    for (const int fd : m_applying) {
        FdEntry &entry = m_fds[static_cast<std::size_t>(fd)];
        entry.dirty = false;
        syncFd(fd, entry, probeWrites);
    }
    m_applying.clear();
}

void EpollEventDispatcher::syncFd(int fd, FdEntry &entry, bool probeWrites)
{
    std::uint32_t wanted = wantedEvents(entry);
    if (probeWrites && (wanted & EPOLLOUT) && !(entry.registered & EPOLLOUT) && !entry.alwaysReady) {
        // A socket that just got data to send is nearly always writable: ask poll(2) about
        // this one descriptor instead of adding EPOLLOUT now and removing it after the
        // write (two epoll_ctl calls and an extra pass). Still level-triggered: while the
        // notifier stays enabled the descriptor is probed again on every pass.
        pollfd probe{fd, POLLOUT, 0};
        if (::poll(&probe, 1, 0) == 1 && !(probe.revents & POLLNVAL)) {
            gatherSocketEvents(fd, EPOLLOUT);
            wanted &= ~static_cast<std::uint32_t>(EPOLLOUT);
            markDirty(fd, entry);
        }
    }
    if (entry.alwaysReady) {
        if (wanted == 0) {
            entry.alwaysReady = false;
            m_alwaysReady.erase(std::find(m_alwaysReady.begin(), m_alwaysReady.end(), fd));
        }
        return;
    }
    if (wanted == entry.registered)
        return;

    epoll_event ev{};
    ev.events = wanted;
    ev.data.fd = fd;
    if (wanted == 0) {
        // Failure means the descriptor is already closed, which removed it from the set.
        ::epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, &ev);
        entry.registered = 0;
        return;
    }
    int op = entry.registered == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    int rc = ::epoll_ctl(m_epollFd, op, fd, &ev);
    if (rc != 0 && op == EPOLL_CTL_ADD && errno == EEXIST) {
        // A stale registration (the descriptor was closed while a duplicate kept it alive).
        op = EPOLL_CTL_MOD;
        rc = ::epoll_ctl(m_epollFd, op, fd, &ev);
    } else if (rc != 0 && op == EPOLL_CTL_MOD && errno == ENOENT) {
        // The descriptor was closed and its number reused since we registered it.
        op = EPOLL_CTL_ADD;
        rc = ::epoll_ctl(m_epollFd, op, fd, &ev);
    }
    if (rc == 0) {
        entry.registered = wanted;
        return;
    }
    entry.registered = 0;
    if (errno == EPERM) {
        // Regular files and directories cannot be watched; poll(2) reports them always ready.
        entry.alwaysReady = true;
        m_alwaysReady.push_back(fd);
        return;
    }
    qWarning("EpollEventDispatcher: cannot watch descriptor %d (%s); its socket notifiers stay silent",
             fd, std::strerror(errno));
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    const auto fd = static_cast<int>(notifier->socket());
    if (fd < 0) {
        qWarning("EpollEventDispatcher: cannot watch invalid descriptor %d", fd);
        return;
    }
    const int type = typeIndex(notifier);
    FdEntry &entry = entryFor(fd);
    if (entry.notifiers[type] && entry.notifiers[type] != notifier)
        qWarning("EpollEventDispatcher: multiple socket notifiers for descriptor %d and type %s; "
                 "the newest one wins",
                 fd, typeName(type));
    entry.notifiers[type] = notifier;
    markDirty(fd, entry);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    const auto fd = static_cast<int>(notifier->socket());
    if (fd < 0 || static_cast<std::size_t>(fd) >= m_fds.size())
        return;
    const int type = typeIndex(notifier);
    FdEntry &entry = m_fds[static_cast<std::size_t>(fd)];
    if (entry.notifiers[type] != notifier)
        return;
    entry.notifiers[type] = nullptr;

    const auto bit = static_cast<std::uint8_t>(1u << type);
    if (entry.pending & bit) {
        entry.pending &= static_cast<std::uint8_t>(~bit);
        for (std::size_t i = m_pendingHead; i < m_pending.size(); ++i) {
            if (m_pending[i] == notifier)
                m_pending[i] = nullptr;
        }
    }
    // Without any notifier left the descriptor may be closed right after this call, so it
    // leaves the epoll set now; other changes wait for the next pass.
    if (wantedEvents(entry) == 0)
        syncFd(fd, entry, false);
    else
        markDirty(fd, entry);
}

int EpollEventDispatcher::gatherSocketEvents(int fd, std::uint32_t events)
{
    if (fd < 0 || static_cast<std::size_t>(fd) >= m_fds.size())
        return 0;
    FdEntry &entry = m_fds[static_cast<std::size_t>(fd)];
    int queued = 0;
    for (int type = 0; type < 3; ++type) {
        QSocketNotifier *notifier = entry.notifiers[type];
        const auto bit = static_cast<std::uint8_t>(1u << type);
        if (notifier && (events & kDelivered[type]) && !(entry.pending & bit)) {
            entry.pending |= bit;
            m_pending.push_back(notifier);
            ++queued;
        }
    }
    return queued;
}

// Nested processEvents() calls (an event loop run from a slot) consume the same queue, so
// no notifier is activated twice for one readiness report.
int EpollEventDispatcher::activateSocketNotifiers()
{
    int activated = 0;
    QEvent event(QEvent::SockAct);
    while (m_pendingHead < m_pending.size()) {
        QSocketNotifier *notifier = m_pending[m_pendingHead++];
        if (!notifier)
            continue;
        FdEntry &entry = m_fds[static_cast<std::size_t>(notifier->socket())];
        entry.pending &= static_cast<std::uint8_t>(~(1u << typeIndex(notifier)));
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    m_pending.clear();
    m_pendingHead = 0;
    return activated;
}

// ---- timers ----------------------------------------------------------------------------

bool EpollEventDispatcher::heapLess(const Timer *a, const Timer *b) const
{
    return a->timeoutNs < b->timeoutNs || (a->timeoutNs == b->timeoutNs && a->sequence < b->sequence);
}

void EpollEventDispatcher::heapPlace(std::size_t index, Timer *timer)
{
    m_heap[index] = timer;
    timer->heapIndex = index;
}

void EpollEventDispatcher::heapSiftUp(std::size_t index)
{
    Timer *timer = m_heap[index];
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!heapLess(timer, m_heap[parent]))
            break;
        heapPlace(index, m_heap[parent]);
        index = parent;
    }
    heapPlace(index, timer);
}

void EpollEventDispatcher::heapSiftDown(std::size_t index)
{
    Timer *timer = m_heap[index];
    const std::size_t size = m_heap.size();
    for (;;) {
        std::size_t child = 2 * index + 1;
        if (child >= size)
            break;
        if (child + 1 < size && heapLess(m_heap[child + 1], m_heap[child]))
            ++child;
        if (!heapLess(m_heap[child], timer))
            break;
        heapPlace(index, m_heap[child]);
        index = child;
    }
    heapPlace(index, timer);
}

void EpollEventDispatcher::heapPush(Timer *timer)
{
    timer->sequence = ++m_timerSequence;
    m_heap.push_back(timer);
    heapSiftUp(m_heap.size() - 1);
}

void EpollEventDispatcher::heapRemove(Timer *timer)
{
    const std::size_t index = timer->heapIndex;
    Timer *last = m_heap.back();
    m_heap.pop_back();
    if (index < m_heap.size()) {
        heapPlace(index, last);
        heapSiftUp(index);
        heapSiftDown(last->heapIndex);
    }
}

// The earliest timer that is not being delivered right now (a nested event loop must not
// spin on the timer whose slot started it).
const EpollEventDispatcher::Timer *EpollEventDispatcher::nextWaitingTimer() const
{
    if (m_heap.empty())
        return nullptr;
    if (!m_heap.front()->activating)
        return m_heap.front();
    const Timer *best = nullptr;
    for (const Timer *timer : m_heap) {
        if (!timer->activating && (!best || heapLess(timer, best)))
            best = timer;
    }
    return best;
}

void EpollEventDispatcher::computeFirstTimeout(Timer &timer, std::int64_t nowNs) const
{
    switch (timer.type) {
    case Qt::PreciseTimer:
        timer.timeoutNs = nowNs + timer.interval * kNsPerMs;
        return;
    case Qt::CoarseTimer:
        // Under 20 ms 5% is below a millisecond: precise. From 20 s on it is above a second.
        if (timer.interval < 20000) {
            timer.timeoutNs = nowNs + timer.interval * kNsPerMs;
            if (timer.interval <= 20)
                timer.type = Qt::PreciseTimer;
            else
                timer.timeoutNs = coarseTimeout(timer.timeoutNs, timer.interval, nowNs);
            return;
        }
        timer.type = Qt::VeryCoarseTimer;
        [[fallthrough]];
    case Qt::VeryCoarseTimer: {
        // Whole seconds: the interval is kept rounded to the nearest second.
        timer.interval = (timer.interval / 500 + 1) >> 1;
        std::int64_t seconds = nowNs / kNsPerSecond + timer.interval;
        if (nowNs % kNsPerSecond > 500 * kNsPerMs)
            ++seconds;
        timer.timeoutNs = seconds * kNsPerSecond;
        return;
    }
    }
}

void EpollEventDispatcher::computeNextTimeout(Timer &timer, std::int64_t nowNs) const
{
    if (timer.type == Qt::VeryCoarseTimer) {
        std::int64_t seconds = timer.timeoutNs / kNsPerSecond + timer.interval;
        if (seconds <= nowNs / kNsPerSecond)
            seconds = nowNs / kNsPerSecond + timer.interval;
        timer.timeoutNs = seconds * kNsPerSecond;
        return;
    }
    // Keep the phase (no drift) unless the loop fell behind; then restart from now.
    timer.timeoutNs += timer.interval * kNsPerMs;
    if (timer.timeoutNs < nowNs)
        timer.timeoutNs = nowNs + timer.interval * kNsPerMs;
    if (timer.type == Qt::CoarseTimer)
        timer.timeoutNs = coarseTimeout(timer.timeoutNs, timer.interval, nowNs);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qWarning("EpollEventDispatcher::registerTimer: invalid arguments");
        return;
    }
    if (m_timers.contains(timerId))
        unregisterTimer(timerId);
    Timer &timer = m_timers[timerId];
    timer.id = timerId;
    timer.interval = interval;
    timer.type = timerType;
    timer.object = object;
    computeFirstTimeout(timer, monotonicNs());
    heapPush(&timer);
    m_timersByObject[object].push_back(timerId);
}

void EpollEventDispatcher::removeTimer(std::unordered_map<int, Timer>::iterator it)
{
    Timer &timer = it->second;
    heapRemove(&timer);
    auto owner = m_timersByObject.find(timer.object);
    if (owner != m_timersByObject.end()) {
        auto &ids = owner->second;
        ids.erase(std::find(ids.begin(), ids.end(), timer.id));
        if (ids.empty())
            m_timersByObject.erase(owner);
    }
    m_timers.erase(it);
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return false;
    removeTimer(it);
    return true;
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    const auto owner = m_timersByObject.find(object);
    if (owner == m_timersByObject.end())
        return false;
    for (const int id : owner->second) {
        const auto it = m_timers.find(id);
        heapRemove(&it->second);
        m_timers.erase(it);
    }
    m_timersByObject.erase(owner);
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    QList<TimerInfo> list;
    const auto owner = m_timersByObject.find(object);
    if (owner == m_timersByObject.end())
        return list;
    list.reserve(static_cast<qsizetype>(owner->second.size()));
    for (const int id : owner->second) {
        const Timer &timer = m_timers.at(id);
        const qint64 interval = timer.type == Qt::VeryCoarseTimer ? timer.interval * 1000 : timer.interval;
        list.append(TimerInfo(id, static_cast<int>(interval), timer.type));
    }
    return list;
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    const auto it = m_timers.find(timerId);
    if (it == m_timers.end())
        return -1;
    const std::int64_t left = it->second.timeoutNs - monotonicNs();
    if (left <= 0)
        return 0;
    return static_cast<int>((left + kNsPerMs - 1) / kNsPerMs);
}

void EpollEventDispatcher::armTimerFd(std::int64_t deadlineNs)
{
    if (deadlineNs == m_timerFdArmedNs)
        return;
    itimerspec spec{};
    if (deadlineNs >= 0) {
        spec.it_value.tv_sec = static_cast<time_t>(deadlineNs / kNsPerSecond);
        spec.it_value.tv_nsec = static_cast<long>(deadlineNs % kNsPerSecond);
        if (spec.it_value.tv_sec == 0 && spec.it_value.tv_nsec == 0)
            spec.it_value.tv_nsec = 1; // zero would disarm
    }
    ::timerfd_settime(m_timerFd, TFD_TIMER_ABSTIME, &spec, nullptr);
    m_timerFdArmedNs = deadlineNs;
}

// Every timer due at the start of the pass fires once, earliest first, equal timeouts in
// registration order; a timer re-armed by this pass (zero interval) waits for the next.
int EpollEventDispatcher::activateTimers()
{
    if (m_heap.empty())
        return 0;
    const std::int64_t nowNs = monotonicNs();
    const std::uint64_t pass = ++m_timerPass;
    int activated = 0;
    while (!m_heap.empty()) {
        Timer *timer = m_heap.front();
        if (timer->timeoutNs > nowNs || timer->pass == pass)
            break;
        timer->pass = pass;
        heapRemove(timer);
        computeNextTimeout(*timer, nowNs);
        heapPush(timer);
        if (timer->interval > 0)
            ++activated;
        if (timer->activating)
            continue; // its slot runs the loop we are in: no recursion

        timer->activating = true;
        const int id = timer->id;
        QTimerEvent event(id);
        QCoreApplication::sendEvent(timer->object, &event);
        // The slot may have killed the timer (and the id may be registered anew).
        const auto it = m_timers.find(id);
        if (it != m_timers.end())
            it->second.activating = false;
    }
    return activated;
}

// ---- waking ----------------------------------------------------------------------------

void EpollEventDispatcher::wakeUp()
{
    if (!m_wakeUpPending.exchange(true, std::memory_order_acq_rel)) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const auto n = ::write(m_wakeFd, &one, sizeof one);
    }
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_release);
    wakeUp();
}

void EpollEventDispatcher::drainWakeUps()
{
    // A post racing with this read is not lost: its event is already queued and the next
    // processEvents() starts by sending posted events.
    std::uint64_t count = 0;
    [[maybe_unused]] const auto n = ::read(m_wakeFd, &count, sizeof count);
    m_wakeUpPending.store(false, std::memory_order_release);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    emit awake();
    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    const bool mayWait = (flags & QEventLoop::WaitForMoreEvents) && isValid();

    if (m_interrupted.load(std::memory_order_acquire))
        return false;

    applyChanges(includeNotifiers);

    int timeoutMs = mayWait && m_pending.empty() ? -1 : 0;
    if (includeTimers) {
        if (const Timer *next = nextWaitingTimer()) {
            if (next->timeoutNs <= monotonicNs())
                timeoutMs = 0;
            else if (isValid())
                armTimerFd(next->timeoutNs);
        } else if (m_timerFdArmedNs >= 0) {
            armTimerFd(-1);
        }
    }
    if (includeNotifiers && !m_alwaysReady.empty())
        timeoutMs = 0;
    if (timeoutMs != 0)
        emit aboutToBlock();

    int handled = 0;
    if (isValid()) {
        epoll_event events[kMaxEventsPerWait];
        const int epollFd = includeNotifiers ? m_epollFd : m_controlEpollFd;
        int ready = ::epoll_wait(epollFd, events, kMaxEventsPerWait, timeoutMs);
        if (ready < 0) {
            if (errno != EINTR)
                qWarning("EpollEventDispatcher: epoll_wait failed (%s)", std::strerror(errno));
            ready = 0;
        }
        for (int i = 0; i < ready; ++i) {
            const int fd = events[i].data.fd;
            if (fd == m_wakeFd) {
                drainWakeUps();
                ++handled;
            } else if (fd == m_timerFd) {
                std::uint64_t expirations = 0;
                [[maybe_unused]] const auto n = ::read(m_timerFd, &expirations, sizeof expirations);
                m_timerFdArmedNs = -1;
            } else if (includeNotifiers) {
                gatherSocketEvents(fd, events[i].events);
            }
        }
    }
    if (includeNotifiers) {
        for (const int fd : m_alwaysReady)
            gatherSocketEvents(fd, EPOLLIN | EPOLLOUT);
        handled += activateSocketNotifiers();
    }
    if (includeTimers)
        handled += activateTimers();
    return handled > 0;
}

} // namespace edgesse::net
