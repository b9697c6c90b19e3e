#include "core/routing/instancepool.h"

#include "core/net/deadlinequeue.h"

#include <algorithm>

namespace edgesse::routing {

namespace {

int slotsOf(const scenario::Node &node)
{
    return std::max(1, node.autoscale ? node.autoscale->max : node.instances);
}

} // namespace

sse::ServerStats combined(const sse::ServerStats &a, const sse::ServerStats &b)
{
    sse::ServerStats s = a;
    for (auto field : {&sse::ServerStats::connectionsOpen, &sse::ServerStats::connectionsMax, &sse::ServerStats::connectionsTotal,
                       &sse::ServerStats::connectionsRejected, &sse::ServerStats::http2Connections, &sse::ServerStats::streamsOpen,
                       &sse::ServerStats::streamsMax, &sse::ServerStats::streamsTotal, &sse::ServerStats::streamsEndedByMaxDuration,
                       &sse::ServerStats::requests, &sse::ServerStats::badRequests, &sse::ServerStats::headerTimeouts,
                       &sse::ServerStats::requestTimeouts, &sse::ServerStats::idleTimeouts, &sse::ServerStats::slowConsumersDropped,
                       &sse::ServerStats::acceptPauses, &sse::ServerStats::polls, &sse::ServerStats::longPollsWaiting,
                       &sse::ServerStats::bytesReceived, &sse::ServerStats::bytesSent, &sse::ServerStats::bytesQueued,
                       &sse::ServerStats::heartbeatBytes, &sse::ServerStats::heartbeats, &sse::ServerStats::eventWrites,
                       &sse::ServerStats::replaysComplete, &sse::ServerStats::replaysWithGap, &sse::ServerStats::eventsReplayed,
                       &sse::ServerStats::eventsLostInGaps, &sse::ServerStats::replayBytes, &sse::ServerStats::lanesInUse})
        s.*field += b.*field;
    for (auto field : {&sse::ServerStats::http2StreamsMax, &sse::ServerStats::eventsPublished, &sse::ServerStats::replayEvents})
        s.*field = std::max(s.*field, b.*field);
    return s;
}

InstancePool::InstancePool(Settings settings, InstanceFactory factory, net::DeadlineQueue &timers, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_node(*settings.node)
    , m_factory(std::move(factory))
    , m_timers(timers)
    , m_slots(std::size_t(slotsOf(*settings.node)))
    , m_billing(m_slots.size(), 0)
{
    Balancer::Settings b;
    b.policy = m_node.balance;
    b.slotCount = int(m_slots.size());
    b.seed = settings.seed;
    b.cap = m_node.maxConnections;
    b.waitWhenFull = !m_node.autoscale || m_node.autoscale->whenFull == scenario::WhenFull::Wait;
    b.retryAfter = settings.retryAfter;
    b.acceptRate = m_node.acceptRate;
    b.acceptBurst = m_node.acceptBurst;
    m_balancer = new Balancer(b, timers, this);
    m_balancer->needsInstance = [this](int need) { return needsInstance(need); };
    m_balancer->slotIdle = [this](int slot) { slotIdle(slot); };
}

InstancePool::~InstancePool()
{
    for (const auto id : m_faultTimers)
        m_timers.cancel(id);
    for (auto &slot : m_slots)
        if (slot.timer)
            m_timers.cancel(slot.timer);
    delete m_balancer; // connections first, then the servers they lead to
    m_balancer = nullptr;
    std::lock_guard lock(m_mutex);
    for (auto &slot : m_slots)
        slot.instance.reset();
}

bool InstancePool::start(QString *error)
{
    if (!m_balancer->listen(error))
        return false;
    const int first = std::min(m_node.instances, int(m_slots.size()));
    for (int i = 0; i < first; ++i) {
        {
            std::lock_guard lock(m_mutex);
            m_billing[std::size_t(i)] = m_billed.size();
            m_billed.push_back({Clock::now(), std::nullopt});
            ++m_started;
        }
        if (!bringUp(i, error))
            return false;
    }
    for (const scenario::NodeFault &fault : m_node.faults)
        m_faultTimers.push_back(m_timers.scheduleAfter(fault.at, [this, fault] { applyFault(fault); }));
    return true;
}

bool InstancePool::bringUp(int slot, QString *error)
{
    if (m_slots[std::size_t(slot)].state == State::Starting)
        m_starting.fetch_sub(1);
    m_slots[std::size_t(slot)].state = State::Off;
    QString problem;
    std::unique_ptr<Instance> instance = m_factory(slot, &problem);
    if (!instance) {
        if (error)
            *error = problem;
        std::lock_guard lock(m_mutex);
        m_billed[m_billing[std::size_t(slot)]].second = Clock::now();
        m_slots[std::size_t(slot)].state = State::Down;
        return false;
    }
    const quint16 port = instance->port();
    {
        std::lock_guard lock(m_mutex);
        m_slots[std::size_t(slot)].instance = std::move(instance);
    }
    m_slots[std::size_t(slot)].state = State::Up;
    m_slots[std::size_t(slot)].idleSince = Clock::now();
    m_running.fetch_add(1);
    m_balancer->setSlot(slot, port, true);
    return true;
}

// A new instance, serving once its cold start is over; billed from now.
void InstancePool::coldStart(int slot, std::chrono::microseconds after)
{
    Slot &s = m_slots[std::size_t(slot)];
    s.state = State::Starting;
    m_starting.fetch_add(1);
    {
        std::lock_guard lock(m_mutex);
        m_billing[std::size_t(slot)] = m_billed.size();
        m_billed.push_back({Clock::now(), std::nullopt});
        ++m_started;
    }
    s.timer = m_timers.scheduleAfter(after, [this, slot] {
        m_slots[std::size_t(slot)].timer = 0;
        bringUp(slot, nullptr);
    });
}

bool InstancePool::needsInstance(int pendingNeed)
{
    if (!m_node.autoscale || m_halted)
        return false;
    const qint64 cap = std::max<qint64>(m_node.maxConnections, 1);
    if (qint64(count(State::Starting)) * cap >= pendingNeed)
        return true;
    const auto off = std::find_if(m_slots.begin(), m_slots.end(), [](const Slot &s) { return s.state == State::Off; });
    if (off == m_slots.end())
        return count(State::Starting) > 0;
    coldStart(int(off - m_slots.begin()), m_node.autoscale->coldStart);
    return true;
}

// The instance goes (its connections already ended or reset); billing stops.
void InstancePool::retire(int slot, State next)
{
    Slot &s = m_slots[std::size_t(slot)];
    if (s.state == State::Up || s.state == State::Draining)
        m_running.fetch_sub(1);
    if (s.timer)
        m_timers.cancel(std::exchange(s.timer, 0));
    if (s.state == State::Starting)
        m_starting.fetch_sub(1);
    m_balancer->setSlot(slot, 0, false);
    std::unique_ptr<Instance> gone;
    {
        std::lock_guard lock(m_mutex);
        gone = std::move(s.instance);
        if (gone) {
            sse::ServerStats last = gone->stats();
            last.connectionsOpen = last.streamsOpen = last.longPollsWaiting = last.bytesQueued = 0;
            last.replayEvents = last.replayBytes = last.lanesInUse = 0;
            m_retired = combined(m_retired, last);
        }
        auto &entry = m_billed[m_billing[std::size_t(slot)]];
        if (s.state != State::Off && s.state != State::Down && !entry.second)
            entry.second = Clock::now();
    }
    s.state = next;
    gone.reset();
}

void InstancePool::slotIdle(int slot)
{
    Slot &s = m_slots[std::size_t(slot)];
    s.idleSince = Clock::now();
    if (!m_node.autoscale || s.state != State::Up)
        return;
    const auto after = m_node.autoscale->scaleInAfter;
    m_timers.scheduleAfter(after, [this, slot, after] {
        Slot &x = m_slots[std::size_t(slot)];
        const bool idle = x.state == State::Up && m_balancer->openOn(slot) == 0 && Clock::now() - x.idleSince >= after;
        if (idle && count(State::Up) > m_node.autoscale->min)
            retire(slot, State::Off);
    });
}

void InstancePool::applyFault(const scenario::NodeFault &fault)
{
    const bool whole = fault.instance < 0;
    m_halted = m_halted || whole;
    if (whole && fault.kind == scenario::NodeFaultKind::Crash)
        m_balancer->setNodeDown(true);
    for (int slot = 0; slot < int(m_slots.size()); ++slot) {
        if (!whole && slot != fault.instance)
            continue;
        const State state = m_slots[std::size_t(slot)].state;
        if (state == State::Off || state == State::Down)
            continue;
        if (fault.kind == scenario::NodeFaultKind::Crash)
            crash(slot);
        else
            drain(slot, fault.grace);
        if (fault.downFor) {
            const auto back = std::max(*fault.downFor, fault.kind == scenario::NodeFaultKind::Drain ? fault.grace : std::chrono::microseconds(0));
            m_faultTimers.push_back(m_timers.scheduleAfter(back, [this, slot] { restart(slot); }));
        }
    }
}

void InstancePool::crash(int slot)
{
    m_balancer->resetSlot(slot);
    retire(slot, State::Down);
}

void InstancePool::drain(int slot, std::chrono::microseconds grace)
{
    Slot &s = m_slots[std::size_t(slot)];
    if (s.state == State::Starting) {
        retire(slot, State::Down);
        return;
    }
    s.state = State::Draining;
    m_balancer->setSlot(slot, s.instance ? s.instance->port() : 0, false);
    s.timer = m_timers.scheduleAfter(grace, [this, slot] {
        m_slots[std::size_t(slot)].timer = 0;
        m_balancer->closeSlot(slot);
        retire(slot, State::Down);
    });
}

// Back as a fresh process: a new server, replay buffer and upstream; billed again.
void InstancePool::restart(int slot)
{
    if (m_slots[std::size_t(slot)].state != State::Down)
        return;
    m_balancer->setNodeDown(false);
    m_halted = false;
    coldStart(slot, m_node.autoscale ? m_node.autoscale->coldStart : std::chrono::microseconds(0));
}

int InstancePool::instancesWithoutUpstream() const
{
    int waiting = 0;
    for (const auto &slot : m_slots)
        waiting += slot.instance && slot.state == State::Up && !slot.instance->upstreamOpen() ? 1 : 0;
    return waiting;
}

int InstancePool::count(State state) const
{
    return int(std::count_if(m_slots.begin(), m_slots.end(), [state](const Slot &s) { return s.state == state; }));
}

void InstancePool::publish(const sse::PublishedEvent &event)
{
    for (auto &slot : m_slots)
        if (slot.instance && (slot.state == State::Up || slot.state == State::Draining))
            slot.instance->publish(event);
}

sse::ServerStats InstancePool::stats() const
{
    std::lock_guard lock(m_mutex);
    sse::ServerStats s = m_retired;
    for (const auto &slot : m_slots)
        if (slot.instance)
            s = combined(s, slot.instance->stats());
    s.connectionsRejected += qint64(m_balancer->counters().rejected.load(std::memory_order_relaxed));
    return s;
}

InstancePool::Snapshot InstancePool::snapshot() const
{
    Snapshot s;
    s.running = m_running.load();
    s.starting = m_starting.load();
    {
        std::lock_guard lock(m_mutex);
        s.started = m_started;
    }
    for (int i = 0; i < int(m_slots.size()); ++i)
        s.connections.push_back(m_balancer->openOn(i));
    const Balancer::Counters &c = m_balancer->counters();
    s.attempts = c.attempts.load(std::memory_order_relaxed);
    s.rejected = c.rejected.load(std::memory_order_relaxed);
    s.moved = c.moved.load(std::memory_order_relaxed);
    s.reset = c.reset.load(std::memory_order_relaxed);
    s.waiting = c.waiting.load(std::memory_order_relaxed);
    return s;
}

double InstancePool::instanceSeconds(Clock::time_point from, Clock::time_point to) const
{
    std::lock_guard lock(m_mutex);
    double seconds = 0;
    for (const auto &[begin, end] : m_billed) {
        const auto a = std::max(begin, from);
        const auto b = std::min(end.value_or(to), to);
        if (b > a)
            seconds += std::chrono::duration<double>(b - a).count();
    }
    return seconds;
}

} // namespace edgesse::routing
