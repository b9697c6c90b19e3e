#pragma once

#include "core/link/copyforwarder.h"
#include "core/link/directionpipeline.h"
#include "core/link/handshakegate.h"
#include "core/link/idlepolicy.h"
#include "core/link/linkproxy.h"
#include "core/link/maxdurationpolicy.h"
#include "core/link/releaselog.h"
#include "core/link/spliceforwarder.h"
#include "core/link/tlsemulation.h"
#include "core/link/tlshandshakewatch.h"
#include "core/link/tokenbucket.h"

#include <memory>

class QSocketNotifier;

namespace edgesse::link {

// One proxied connection: the accepted client socket, the upstream socket, and per direction
// a timing pipeline feeding a forwarder (copy through a release queue, or splice when the link
// adds no delay). The connection's policies (idle reap, max duration) run beside them.
class LinkProxy::Connection
{
public:
    // `line`: the shared line this connection's bytes take turns on, or null for its own.
    Connection(LinkProxy &proxy, int clientFd, std::uint64_t index, TimePoint acceptedAt, SharedLine *line,
               std::shared_ptr<ReleaseLog::Record> record);
    ~Connection();
    Q_DISABLE_COPY_MOVE(Connection)

    void start();
    void reset();
    void close();
    void reap(ReapCause cause);
    bool isClosed() const { return m_closed; }

private:
    struct Side {
        int fd = -1;
        std::unique_ptr<QSocketNotifier> readNotifier;
        std::unique_ptr<QSocketNotifier> writeNotifier;
        bool writeWanted = false;
    };
    struct Flow {
        Flow(Side &from, Side &to, AtomicDirection &counters_, const LinkSettings &settings, std::uint64_t seed,
             std::size_t paceBytes, TokenBucket *shared, Direction direction);
        Side &src;
        Side &dst;
        AtomicDirection &counters;
        TokenBucket bucket;
        DirectionPipeline pipeline;
        CopyForwarder copy;
        SpliceForwarder splice;
        Direction direction;
        std::uint64_t written = 0; // bytes passed on so far
        std::uint64_t admitted = 0; // bytes read so far (the stream offset of the next one)
        std::int64_t queueToStream = 0; // stream offset - release queue offset (bytes sent straight)
        net::DeadlineQueue::Id timer = 0;
        bool eofRead = false;
        bool finSent = false;
        bool paused = false;
        bool resetPending = false; // splice: reset once the pipe has passed its bytes on
        bool dstGone = false;      // the destination reset its end: nothing more goes to it
    };

    void watch(Side &side);
    void connectUpstream();
    void onConnectResult();
    void failUpstream(const QString &reason);
    void failConnect(int error);
    void onReadable(Flow &flow);
    void onEndOfStream(Flow &flow);
    void onPeerReset(Side &side);
    void drainBeforeReset(Flow &flow);
    void onWriteFailed(Flow &flow, int error);
    void spliceIn(Flow &flow);
    void spliceOut(Flow &flow);
    bool openPipes();
    void onWritable(Side &side);
    void enqueue(Flow &flow, const char *data, std::size_t size, TimePoint arrival);
    bool writeDirect(Flow &flow, const char *&data, std::size_t &size, TimePoint release);
    void revise(Flow &flow, std::uint64_t offset, TimePoint release);
    void recordWritten(Flow &flow, std::size_t bytes, TimePoint intended, TimePoint at);
    void kick(Flow &flow);
    void scheduleFlush(Flow &flow, TimePoint when);
    void flush(Flow &flow);
    void resumeReading(Flow &flow);
    bool destinationReady(const Flow &flow) const;
    TimePoint sentAt(const Flow &flow, TimePoint arrival) const;
    void onIdleCheck();
    void maybeFinish();
    void closeSockets(bool withReset);
    void cancel(net::DeadlineQueue::Id &id);
    void watchTls(const Flow &flow, const char *data, std::size_t size);
    void watchTlsEnd(const Side &side);
    void reportTls();

    LinkProxy &m_proxy;
    const LinkSettings &m_settings;
    Side m_client;
    Side m_server;
    Flow m_up;
    Flow m_down;
    TimePoint m_acceptedAt;
    HandshakeGate m_handshake;
    TlsEmulation m_tls;
    TlsHandshakeWatch m_tlsWatch;
    IdlePolicy m_idle;
    MaxDurationPolicy m_maxDuration;
    TimePoint m_lastActivity;
    std::shared_ptr<ReleaseLog::Record> m_record;
    net::DeadlineQueue::Id m_connectTimer = 0;
    net::DeadlineQueue::Id m_idleTimer = 0;
    net::DeadlineQueue::Id m_maxTimer = 0;
    std::unique_ptr<SseTap> m_tap; // the target's responses, observed
    bool m_splicing = false;
    bool m_connecting = false;
    bool m_connected = false;
    bool m_closed = false;
};

} // namespace edgesse::link
