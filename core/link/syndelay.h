#pragma once

#include "core/link/synhold.h"

#include <QHostAddress>
#include <QString>

#include <atomic>
#include <memory>
#include <thread>

struct nfq_handle;
struct nfq_q_handle;
struct nfgenmsg;
struct nfq_data;

namespace edgesse::link {

class SynQueueRule;

// Makes a client's connect() through a link take the link's round trip: the SYNs to the link's
// listening address:port go to an NFQUEUE queue (SynQueueRule) and are let on after the RTT
// (SynHold), so the kernel's SYN-ACK, and the client's connect(), come one RTT after the
// connect was made. Needs root (CAP_NET_ADMIN) and a kernel with NFQUEUE; open() says why not
// otherwise, and the link charges the handshake to the first bytes instead (HandshakeGate).
//
// The queue is read and the SYNs released on a thread of its own, so a busy (or blocked)
// data-plane thread never delays a connect. Destroyed, it takes its rule away first, then lets
// every held SYN go.
class SynDelay
{
public:
    // Null, with `why` set, when SYNs cannot be held here.
    static std::unique_ptr<SynDelay> open(const QHostAddress &address, quint16 port, std::chrono::microseconds roundTrip, QString *why);
    ~SynDelay();
    SynDelay(const SynDelay &) = delete;
    SynDelay &operator=(const SynDelay &) = delete;

    // Any thread.
    std::uint64_t synsHeld() const { return m_synsHeld.load(std::memory_order_relaxed); }
    // Verdicts the kernel refused (each retried) and queue messages that did not parse.
    std::uint64_t failures() const { return m_failures.load(std::memory_order_relaxed); }

private:
    explicit SynDelay(std::chrono::microseconds roundTrip);
    static int onPacket(nfq_q_handle *queue, nfgenmsg *message, nfq_data *data, void *self);
    static TimePoint arrival(nfq_data *data, TimePoint now);
    bool bind(quint16 port, QString *why);
    void serve();
    void readPackets();
    void releaseDue(TimePoint now);

    SynHold m_hold; // the serving thread's only
    nfq_handle *m_handle = nullptr;
    nfq_q_handle *m_queue = nullptr;
    quint16 m_queueNumber = 0;
    int m_fd = -1;
    int m_stopFd = -1; // an eventfd: written to stop the thread
    std::thread m_thread;
    std::unique_ptr<SynQueueRule> m_rule;
    TimePoint m_retryAt{}; // no release before this (a refused verdict is retried then)
    std::atomic<std::uint64_t> m_synsHeld{0};
    std::atomic<std::uint64_t> m_failures{0};
};

} // namespace edgesse::link
