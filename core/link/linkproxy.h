#pragma once

#include "core/link/handshakegate.h"
#include "core/link/linksettings.h"
#include "core/link/ssetap.h"
#include "core/link/releaselog.h"
#include "core/link/tokenbucket.h"
#include "core/net/acceptbackoff.h"
#include "core/net/deadlinequeue.h"

#include <QHostAddress>
#include <QObject>
#include <QPointer>
#include <QString>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

class QSocketNotifier;
struct sockaddr_storage;

namespace edgesse::link {

struct DirectionCounters {
    std::uint64_t bytes = 0;                 // delivered to the receiving side
    std::uint64_t segments = 0;              // kSegmentBytes-sized pieces carried
    std::uint64_t retransmittedSegments = 0; // of which lost once and recovered
};

struct Counters {
    DirectionCounters upstream;   // client -> target
    DirectionCounters downstream; // target -> client
    std::uint64_t connectionsOpen = 0;
    std::uint64_t connectionsTotal = 0;
    std::uint64_t upstreamFailures = 0; // target refused or unreachable
    std::uint64_t resets = 0;           // connections ended by a reset from either side
    std::uint64_t bufferedBytes = 0;    // held by the link now, both ways
    std::array<std::uint64_t, kReapCauseCount> reaps{};
    std::uint64_t datagramsDropped = 0; // UDP links (udplink.h): lost, queue full, link down, no binding
    std::uint64_t datagramsLost = 0;    // of which by the loss model
    std::uint64_t tlsHandshakeFailures = 0; // settings.realTls: handshakes that failed (tlshandshakewatch.h)
    bool datagrams = false;             // a UDP link's counters

    const DirectionCounters &direction(Direction d) const { return d == Direction::Upstream ? upstream : downstream; }
    std::uint64_t reaped(ReapCause cause) const { return reaps[static_cast<std::size_t>(cause)]; }
};

// One link: a TCP listener whose accepted connections are forwarded to a target, each byte
// delayed by latency +- jitter from its own arrival (never reordered), paced by the
// bandwidth (one line per connection, per client address or for the whole link, as
// settings.sharing says), held back by simulated segment loss and its recovery, with the
// handshake time of the link and the idle / max-duration limits of a gateway. Each
// direction is a DirectionPipeline of timing stages (linkconnection.h).
//
// Lives in one thread (the one its DeadlineQueue serves); call its methods from there, or
// through QMetaObject::invokeMethod. snapshot() may be called from any thread.
class SynDelay;

class LinkProxy final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LinkProxy)

public:
    using Clock = net::DeadlineQueue::Clock;
    using TimePoint = net::DeadlineQueue::TimePoint;

    LinkProxy(const LinkSettings &settings, const QHostAddress &targetAddress, quint16 targetPort,
              net::DeadlineQueue &deadlines, QObject *parent = nullptr);
    ~LinkProxy() override;

    // Starts listening (port 0 = any free port). False with errorString() set on failure.
    bool listen(const QHostAddress &address = QHostAddress::LocalHost, quint16 port = 0);
    // Stops listening and resets every connection.
    void close();
    bool isListening() const { return m_listenFd >= 0; }
    QHostAddress address() const { return m_address; }
    quint16 port() const { return m_port; }
    QString errorString() const { return m_error; }

    const LinkSettings &settings() const { return m_settings; }
    // HeldSyn when listening with SYNs held for the RTT (SynDelay): a client's connect()
    // takes the round trip. Otherwise the first bytes pay it, and connectNote() says why.
    ConnectTiming connectTiming() const { return m_synDelay ? ConnectTiming::HeldSyn : ConnectTiming::ChargedToData; }
    // Empty when connect() takes the RTT (or the link has none); else why it returns at once.
    QString connectNote() const { return m_connectNote; }
    QHostAddress targetAddress() const { return m_targetAddress; }
    quint16 targetPort() const { return m_targetPort; }

    // Down: new connections are refused and established ones are reset. Up: accepting again
    // on the same port.
    void setDown(bool down);
    bool isDown() const { return m_down; }
    void scheduleDown(TimePoint at);
    void scheduleUp(TimePoint at);
    // Down `after` from now, up again `duration` later.
    void scheduleOutage(std::chrono::microseconds after, std::chrono::microseconds duration);

    // Every connection accepted from now on gets a tap from `factory`, fed the bytes the
    // target sends (with their receive time). Forwarding through kernel pipes is off then.
    void setTap(SseTap::Factory factory);

    std::size_t openConnections() const { return m_connections.size(); }
    // When every byte queued so far will have left the link (its last release), at least
    // `now`; the run's drain waits for it.
    TimePoint drainedAt() const;
    // A consistent-enough copy of the counters, readable from any thread.
    Counters snapshot() const;
    // settings.realTls: why the first failed TLS handshake failed; empty while none has. Any thread.
    QString firstTlsFailure() const;
    // The release the link intended for byte `offset` of one direction of the connection from
    // `client`:`clientPort`, and when it wrote it (ReleaseLog); any thread.
    std::optional<ReleaseLog::Release> intendedRelease(const QHostAddress &client, quint16 clientPort, Direction direction,
                                                       std::uint64_t offset) const
    {
        return m_releases.intended(client, clientPort, direction, offset);
    }
    std::optional<ReleaseLog::Release> intendedRelease(quint32 clientIPv4, quint16 clientPort, Direction direction,
                                                       std::uint64_t offset) const
    {
        return m_releases.intended(clientIPv4, clientPort, direction, offset);
    }
    std::shared_ptr<const ReleaseLog::Record> releaseRecord(quint32 clientIPv4, quint16 clientPort) const
    {
        return m_releases.record(clientIPv4, clientPort);
    }

signals:
    void connectionOpened();
    void connectionClosed();
    void connectionReaped(edgesse::link::ReapCause cause);
    void upstreamConnectFailed(const QString &reason);
    void wentDown();
    void cameUp();
    // Accepting failed (out of descriptors, say): paused and retried, said once an episode.
    void acceptFailed(const QString &reason);
    // settings.realTls: a connection's TLS handshake failed, for this reason.
    void tlsHandshakeFailed(const QString &cause);

private:
    class Connection;

    struct AtomicDirection {
        std::atomic<std::uint64_t> bytes{0};
        std::atomic<std::uint64_t> segments{0};
        std::atomic<std::uint64_t> retransmittedSegments{0};
    };
    struct AtomicCounters {
        AtomicDirection upstream;
        AtomicDirection downstream;
        std::atomic<std::uint64_t> connectionsOpen{0};
        std::atomic<std::uint64_t> connectionsTotal{0};
        std::atomic<std::uint64_t> upstreamFailures{0};
        std::atomic<std::uint64_t> resets{0};
        std::atomic<std::uint64_t> bufferedBytes{0};
        std::array<std::atomic<std::uint64_t>, kReapCauseCount> reaps{};
        std::atomic<std::uint64_t> tlsHandshakeFailures{0};
    };

    // One line each way, shared by the connections settings.sharing groups together.
    struct SharedLine {
        TokenBucket up;
        TokenBucket down;
    };
    SharedLine *lineFor(const sockaddr_storage &peer);
    static std::size_t readBufferBytes();
    bool openListener(const QHostAddress &address, quint16 port);
    void holdSyns();
    void closeListener();
    void onAcceptable();
    void retire(Connection *connection);
    void noteTlsFailure(const QString &cause);
    void sweep();
    net::DeadlineQueue::Id schedule(TimePoint when, std::function<void()> callback)
    {
        return m_deadlines ? m_deadlines->schedule(when, std::move(callback)) : 0;
    }
    void cancelDeadline(net::DeadlineQueue::Id id)
    {
        if (id != 0 && m_deadlines)
            m_deadlines->cancel(id);
    }

    LinkSettings m_settings;
    QHostAddress m_targetAddress;
    quint16 m_targetPort = 0;
    // Guarded: when both are children of one parent, the queue may be deleted first.
    QPointer<net::DeadlineQueue> m_deadlines;

    QHostAddress m_address;
    quint16 m_port = 0;
    int m_listenFd = -1;
    QSocketNotifier *m_listenNotifier = nullptr;
    bool m_down = false;
    QString m_error;
    std::unique_ptr<SynDelay> m_synDelay;
    QString m_connectNote;

    std::uint64_t m_nextConnectionIndex = 0;
    std::unordered_map<Connection *, std::unique_ptr<Connection>> m_connections;
    std::vector<std::unique_ptr<Connection>> m_retired;
    std::unordered_map<std::uint64_t, std::unique_ptr<SharedLine>> m_lines;
    TimePoint m_lastRelease{};
    ReleaseLog m_releases;
    net::DeadlineQueue::Id m_sweepId = 0;
    std::vector<net::DeadlineQueue::Id> m_faultIds;
    net::DeadlineQueue::Id m_acceptRetryId = 0;
    net::AcceptBackoff m_acceptBackoff;
    std::unique_ptr<char[]> m_readBuffer;
    std::uint64_t m_maxBufferedBytes = 0;
    std::size_t m_paceBytes = 0;
    bool m_passThrough = false;
    int m_splicingConnections = 0;
    SseTap::Factory m_tapFactory;

    AtomicCounters m_counters;
    mutable std::mutex m_tlsFailureMutex;
    QString m_firstTlsFailure; // guarded by m_tlsFailureMutex
};

} // namespace edgesse::link
