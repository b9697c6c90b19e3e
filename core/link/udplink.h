#pragma once

#include "core/link/linkproxy.h"
#include "core/link/lossmodel.h"
#include "core/link/noreorderfloor.h"
#include "core/link/propagation.h"
#include "core/link/tokenbucket.h"
#include "core/net/deadlinequeue.h"
#include "core/quic/udpsocket.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QString>

#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

namespace edgesse::link {

// One link for datagrams (QUIC): a UDP port whose datagrams are forwarded to a target, each
// way through the same timing stages as a TCP link's bytes — random or burst loss (a lost
// datagram is really dropped: QUIC's own recovery resends what it carried), the token
// bucket of the line (shared per client address, per binding or for the whole link, as
// settings.sharing says; a datagram's IP and UDP headers count), latency with seeded
// jitter, and the no-reorder floor (a path does not overtake itself). Each client address
// gets a binding, as behind a NAT: its own upstream socket, so the target sees one peer a
// client. settings.idleTimeout is the NAT binding's lifetime: a binding with no datagram
// either way for that long is removed (counted as an idle reap); the target's later
// datagrams to it are dropped, and the client's next one opens a new binding from a new
// port (the server sees the path change). A link down (faults) drops every datagram.
// At most effectiveMaxBufferedBytes are held each way (the rest is tail-dropped, as a
// router queue does) and at most kMaxBindings bindings exist.
//
// Lives in one thread (its DeadlineQueue's); snapshot() may be called from any thread.
class UdpLink final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpLink)

public:
    static constexpr std::size_t kMaxBindings = 20000;
    // IPv4 + UDP headers: what a datagram costs the line beyond its payload.
    static constexpr std::size_t kHeaderBytes = 28;

    UdpLink(const LinkSettings &settings, const QHostAddress &targetAddress, quint16 targetPort,
            net::DeadlineQueue &deadlines, QObject *parent = nullptr);
    ~UdpLink() override;

    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    void close();
    quint16 port() const { return m_socket.port(); }
    QString errorString() const { return m_error; }
    const LinkSettings &settings() const { return m_settings; }

    void setDown(bool down) { m_down = down; }
    bool isDown() const { return m_down; }
    void scheduleOutage(std::chrono::microseconds after, std::chrono::microseconds duration);
    std::size_t bindings() const { return m_bindings.size(); }
    // Datagrams as segments, bindings as connections, datagramsDropped (of which datagramsLost by
    // the loss model) beside them.
    Counters snapshot() const;

private:
    struct Way {
        Way(const LinkSettings &settings, std::uint64_t seed)
            : propagation(settings.latency, settings.distribution, settings.jitter, seed), loss(settings, seed ^ 0x5eed)
        {
        }
        TokenBucket own;            // the binding's line when not shared
        TokenBucket *line = nullptr;
        Propagation propagation;
        LossModel loss;
        NoReorderFloor floor;
    };
    struct Binding;
    struct SharedLine {
        TokenBucket up;
        TokenBucket down;
    };

    void fromClient(const quic::SocketAddress &from, const std::uint8_t *data, std::size_t size);
    void fromTarget(Binding &binding, const std::uint8_t *data, std::size_t size);
    Binding *bindingFor(const quic::SocketAddress &client);
    SharedLine *lineFor(const quic::SocketAddress &client);
    // Loss, line, trip, floor: when the datagram arrives, or nothing when it is dropped.
    bool carry(Way &way, Direction direction, std::size_t size, TimePoint *release);
    void armIdle(Binding &binding, TimePoint at);
    void drop() { m_dropped.fetch_add(1, std::memory_order_relaxed); }

    LinkSettings m_settings;
    quic::SocketAddress m_target;
    QPointer<net::DeadlineQueue> m_deadlines;
    quic::UdpSocket m_socket;
    std::unordered_map<std::string, std::unique_ptr<Binding>> m_bindings;
    std::unordered_map<std::uint64_t, std::unique_ptr<SharedLine>> m_lines;
    std::uint64_t m_nextBinding = 0;
    std::uint64_t m_maxBufferedBytes = 0;
    std::size_t m_depthBytes = 0;
    std::uint64_t m_held[2] = {0, 0}; // bytes in flight by direction
    bool m_down = false;
    QString m_error;
    std::vector<net::DeadlineQueue::Id> m_faultIds;
    // A datagram's release stays on the queue, which outlives the link: it looks here first.
    std::shared_ptr<bool> m_alive = std::make_shared<bool>(true);

    std::atomic<std::uint64_t> m_bytes[2]{};
    std::atomic<std::uint64_t> m_datagrams[2]{};
    std::atomic<std::uint64_t> m_dropped{0};
    std::atomic<std::uint64_t> m_lost{0};
    std::atomic<std::uint64_t> m_bindingsOpen{0};
    std::atomic<std::uint64_t> m_bindingsTotal{0};
    std::atomic<std::uint64_t> m_idleReaps{0};
    std::atomic<std::uint64_t> m_bufferedBytes{0};
};

} // namespace edgesse::link
