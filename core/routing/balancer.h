#pragma once

#include "core/routing/admission.h"
#include "core/routing/picker.h"

#include <QByteArray>
#include <QHash>
#include <QObject>

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

class QTcpServer;
class QTcpSocket;

namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::routing {

class Pipe;

// A node's L7 load balancer: listens on the node's port, reads each new connection's first
// request head (HTTP/1.1), picks an instance slot by the node's policy and keeps the
// connection — the stream and any later request on it — on that instance until it ends.
// The client id for `hash` is the `edgesse-client` cookie the simulated browsers send;
// an HTTP/2 connection (the h2c preface) or TLS (a ClientHello) is routed at once without a
// key. When every accepting instance is at its cap, `needsInstance` is asked whether one is
// on its way: then the connection waits (or is answered 503 + Retry-After, by `waitWhenFull`)
// until dispatchWaiting(); otherwise the instance's own cap answers. With an accept rate, a
// request beyond it is answered 503 + Retry-After before any instance is picked.
//
// Lives on one thread; counters() may be read from any thread.
class Balancer final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Balancer)

public:
    struct Settings {
        scenario::BalancePolicy policy = scenario::BalancePolicy::RoundRobin;
        int slotCount = 1;
        std::uint64_t seed = 1;
        qint64 cap = 0; // per instance; 0 = none
        bool waitWhenFull = true;
        std::chrono::seconds retryAfter{1};
        double acceptRate = 0;  // new connections a second admitted (AdmissionBucket); 0 = all
        double acceptBurst = 1; // admissions saved up while quiet
        std::chrono::milliseconds headTimeout{10'000};
        qsizetype maxHeadBytes = 16 * 1024;
    };
    static constexpr QByteArrayView kClientCookie = "edgesse-client";

    struct Counters {
        std::atomic<std::uint64_t> attempts{0}; // connections accepted
        std::atomic<std::uint64_t> rejected{0}; // answered 503 by the balancer
        std::atomic<std::uint64_t> moved{0};    // a keyed client routed to another slot than its last
        std::atomic<std::uint64_t> reset{0};    // reset: no instance, node down, crash
        std::atomic<std::int64_t> waiting{0};
        std::unique_ptr<std::atomic<std::int64_t>[]> open; // by slot
    };

    Balancer(Settings settings, net::DeadlineQueue &timers, QObject *parent = nullptr);
    ~Balancer() override;

    bool listen(QString *error);
    quint16 port() const;

    // `pendingNeed` connections need room: true when an instance is starting for them.
    std::function<bool(int pendingNeed)> needsInstance;
    // Called after connections on `slot` ended (so the pool may scale in).
    std::function<void(int slot)> slotIdle;

    void setSlot(int slot, quint16 port, bool accepting);
    void resetSlot(int slot); // crash: every connection of the slot reset
    void closeSlot(int slot); // drain over: every connection of the slot closed cleanly
    void setNodeDown(bool down);
    void dispatchWaiting();

    // When each connection reached the balancer (the first kAttemptLog), on its thread.
    static constexpr std::size_t kAttemptLog = 200'000;
    const std::vector<std::chrono::steady_clock::time_point> &attemptTimes() const { return m_attemptTimes; }
    // When each 503 was answered (the first kAttemptLog), on its thread.
    const std::vector<std::chrono::steady_clock::time_point> &rejectTimes() const { return m_rejectTimes; }

    qint64 openOn(int slot) const { return m_counters.open[std::size_t(slot)].load(std::memory_order_relaxed); }
    const Counters &counters() const { return m_counters; }

private:
    struct Incoming {
        QByteArray head;
        std::uint64_t timer = 0;
        bool ready = false; // head complete (or not HTTP/1.1): routable
    };
    struct Slot {
        quint16 port = 0;
        bool accepting = false;
    };

    void accepted();
    void readHead(QTcpSocket *socket);
    bool route(QTcpSocket *socket);
    void forward(QTcpSocket *socket, int slot);
    void reject(QTcpSocket *socket);
    void drop(QTcpSocket *socket, bool hard);
    std::vector<Candidate> candidates() const;

    Settings m_settings;
    net::DeadlineQueue &m_timers;
    QTcpServer *m_server = nullptr; // child
    Picker m_picker;
    std::vector<Slot> m_slots;
    std::vector<std::unordered_set<Pipe *>> m_pipes; // by slot
    std::unordered_map<QTcpSocket *, Incoming> m_incoming;
    std::deque<QTcpSocket *> m_waiting;
    QHash<QByteArray, int> m_lastSlot; // client id → slot
    Counters m_counters;
    std::vector<std::chrono::steady_clock::time_point> m_attemptTimes;
    std::vector<std::chrono::steady_clock::time_point> m_rejectTimes;
    AdmissionBucket m_admission;
    bool m_down = false;
};

// The value of cookie `name` in an HTTP/1.1 request head; empty when absent.
QByteArray cookieValue(QByteArrayView head, QByteArrayView name);

} // namespace edgesse::routing
