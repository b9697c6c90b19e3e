#pragma once

#include "core/routing/balancer.h"
#include "core/scenario/scenario.h"
#include "core/sse/sseevent.h"
#include "core/sse/sseserver.h"

#include <QObject>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::routing {

// One running instance of a node: a server of its own (and, for a PoP, its own upstream).
class Instance
{
public:
    virtual ~Instance() = default;
    virtual quint16 port() const = 0;
    virtual sse::ServerStats stats() const = 0; // any thread
    virtual void publish(const sse::PublishedEvent &event) = 0;
    // A PoP instance: its upstream stream is open (on the instance's thread).
    virtual bool upstreamOpen() const { return true; }
};
// Makes instance `slot` on the calling thread; null with `error` set when it cannot listen.
using InstanceFactory = std::function<std::unique_ptr<Instance>(int slot, QString *error)>;

// A node run as instances behind a Balancer on the node's port: `instances` from the start,
// or autoscaled (a slot is started, after its cold start, when every running instance is at
// its cap; stopped when idle for scale_in_after, never below min), with the node's
// scheduled faults (crash: connections reset, the process gone; drain: no new connections,
// open ones closed after the grace) applied to one slot or all of them. Instance time is
// kept per slot, from the start request (cold start included) to the stop.
//
// Lives on one thread (made, started and destroyed there); stats(), snapshot() and
// instanceSeconds() may be called from any thread.
class InstancePool final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(InstancePool)

public:
    using Clock = std::chrono::steady_clock;
    struct Settings {
        const scenario::Node *node = nullptr;
        std::uint64_t seed = 1;
        std::chrono::seconds retryAfter{1};
    };
    struct Snapshot {
        int running = 0;  // serving (draining ones included)
        int starting = 0; // in their cold start
        int started = 0;  // instances started so far, the first ones included
        std::vector<qint64> connections; // by slot, open through the balancer
        std::uint64_t attempts = 0;
        std::uint64_t rejected = 0;
        std::uint64_t moved = 0;
        std::uint64_t reset = 0;
        std::int64_t waiting = 0;
    };

    InstancePool(Settings settings, InstanceFactory factory, net::DeadlineQueue &timers, QObject *parent = nullptr);
    ~InstancePool() override;

    // Listens, starts the first instances (warm), schedules the faults from now.
    bool start(QString *error);
    quint16 port() const { return m_balancer->port(); }
    void publish(const sse::PublishedEvent &event);

    sse::ServerStats stats() const;
    Snapshot snapshot() const;
    double instanceSeconds(Clock::time_point from, Clock::time_point to) const;
    int slotCount() const { return int(m_slots.size()); }
    // When each connection reached the balancer (on the pool's thread).
    const std::vector<Clock::time_point> &attemptTimes() const { return m_balancer->attemptTimes(); }
    // When each 503 was answered by the balancer (on the pool's thread).
    const std::vector<Clock::time_point> &rejectTimes() const { return m_balancer->rejectTimes(); }
    // Running instances whose upstream is not open yet (on the pool's thread).
    int instancesWithoutUpstream() const;

private:
    enum class State { Off, Starting, Up, Draining, Down };
    struct Slot {
        State state = State::Off;
        std::unique_ptr<Instance> instance;
        std::uint64_t timer = 0;
        Clock::time_point idleSince{};
    };

    bool needsInstance(int pendingNeed);
    void coldStart(int slot, std::chrono::microseconds after);
    bool bringUp(int slot, QString *error);
    void retire(int slot, State next);
    void slotIdle(int slot);
    void applyFault(const scenario::NodeFault &fault);
    void crash(int slot);
    void drain(int slot, std::chrono::microseconds grace);
    void restart(int slot);
    int count(State state) const;

    Settings m_settings;
    const scenario::Node &m_node;
    InstanceFactory m_factory;
    net::DeadlineQueue &m_timers;
    Balancer *m_balancer = nullptr; // child
    std::vector<Slot> m_slots;
    std::vector<std::uint64_t> m_faultTimers;
    mutable std::mutex m_mutex; // guards the instances' presence, m_retired, m_billed, m_started
    sse::ServerStats m_retired; // counters of instances that are gone
    std::vector<std::pair<Clock::time_point, std::optional<Clock::time_point>>> m_billed;
    std::vector<std::size_t> m_billing; // by slot: its open entry in m_billed
    int m_started = 0;
    std::atomic<int> m_running{0};
    std::atomic<int> m_starting{0};
    bool m_halted = false; // a whole-node fault: no instance is started on demand
};

// The sum of two servers' counters (maxima of the gauges that are per process).
sse::ServerStats combined(const sse::ServerStats &a, const sse::ServerStats &b);

} // namespace edgesse::routing
