#include "core/link/linkconnection.h"

#include "core/link/faultpolicy.h"
#include "core/link/jitter.h"
#include "core/link/socketops.h"
#include "core/net/stampedreceive.h"

#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>

#include <sys/socket.h>
#include <unistd.h>

namespace edgesse::link {

using namespace std::chrono_literals;
using namespace detail;
using Id = net::DeadlineQueue::Id;

namespace {

constexpr std::size_t kReadBytes = 256 * 1024;
// The upstream connect starts this much before the client's first bytes may reach the
// target, so those bytes do not wait for the loopback connect itself.
constexpr auto kUpstreamConnectLead = 1ms;
constexpr int kPipeBytes = 1024 * 1024;
// Splicing costs four descriptors a connection: a few connections at a time.
constexpr int kMaxSplicingConnections = 16;
// Reads taken from a peer that reset: at most its receive buffer's worth.
constexpr int kDrainRounds = 64;

} // namespace

std::size_t LinkProxy::readBufferBytes()
{
    return kReadBytes;
}

LinkProxy::Connection::Flow::Flow(Side &from, Side &to, AtomicDirection &counters_, const LinkSettings &settings,
                                  std::uint64_t seed, std::size_t paceBytes, TokenBucket *shared, Direction direction_)
    : src(from)
    , dst(to)
    , counters(counters_)
    , bucket(settings.bandwidthBitsPerSecond, paceBytes)
    , pipeline(settings, seed, shared ? shared : &bucket, paceBytes)
    , direction(direction_)
{
}

LinkProxy::Connection::Connection(LinkProxy &proxy, int clientFd, std::uint64_t index, TimePoint acceptedAt,
                                  SharedLine *line, std::shared_ptr<ReleaseLog::Record> record)
    : m_proxy(proxy)
    , m_settings(proxy.m_settings)
    , m_up(m_client, m_server, proxy.m_counters.upstream, proxy.m_settings, deriveSeed(proxy.m_settings.seed, 2 * index),
           proxy.m_paceBytes, line ? &line->up : nullptr, Direction::Upstream)
    , m_down(m_server, m_client, proxy.m_counters.downstream, proxy.m_settings,
             deriveSeed(proxy.m_settings.seed, 2 * index + 1), proxy.m_paceBytes, line ? &line->down : nullptr,
             Direction::Downstream)
    , m_acceptedAt(acceptedAt)
    , m_handshake(acceptedAt, proxy.m_settings.roundTrip(), proxy.connectTiming())
    , m_tls(m_handshake.completesAt(), proxy.m_settings.roundTrip(), proxy.m_settings.tls)
    , m_tlsWatch(proxy.m_settings.realTls)
    , m_idle(proxy.m_settings.idleTimeout)
    , m_maxDuration(proxy.m_settings.maxDuration)
    , m_lastActivity(acceptedAt)
    , m_record(std::move(record))
{
    m_client.fd = clientFd;
}

LinkProxy::Connection::~Connection()
{
    if (!m_closed)
        closeSockets(false);
}

void LinkProxy::Connection::cancel(Id &id)
{
    m_proxy.cancelDeadline(id);
    id = 0;
}

void LinkProxy::Connection::watch(Side &side)
{
    const auto fd = static_cast<qintptr>(side.fd);
    side.readNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Read);
    side.writeNotifier = std::make_unique<QSocketNotifier>(fd, QSocketNotifier::Write);
    side.writeNotifier->setEnabled(false);
    Flow &from = &side == &m_client ? m_up : m_down;
    QObject::connect(side.readNotifier.get(), &QSocketNotifier::activated, side.readNotifier.get(),
                     [this, &from] { onReadable(from); });
    QObject::connect(side.writeNotifier.get(), &QSocketNotifier::activated, side.writeNotifier.get(),
                     [this, &side] { onWritable(side); });
}

TimePoint LinkProxy::Connection::sentAt(const Flow &flow, TimePoint arrival) const
{
    // Bytes a client sends before its connect (and emulated TLS) would have completed count
    // as sent then.
    return &flow == &m_up ? m_tls.sent(m_handshake.sent(arrival)) : arrival;
}

void LinkProxy::Connection::start()
{
    if (m_closed)
        return;
    tuneSocket(m_client.fd);
    if (m_proxy.m_tapFactory)
        m_tap = m_proxy.m_tapFactory();
    if (m_proxy.m_passThrough && m_proxy.m_splicingConnections < kMaxSplicingConnections && openPipes()) {
        m_splicing = true;
        ++m_proxy.m_splicingConnections;
    }
    watch(m_client);

    if (const auto deadline = m_maxDuration.deadline(m_acceptedAt))
        m_maxTimer = m_proxy.schedule(*deadline, [this] {
            m_maxTimer = 0;
            reap(ReapCause::MaxDuration);
        });
    if (m_idle.enabled())
        m_idleTimer = m_proxy.schedule(m_idle.firstCheck(m_acceptedAt), [this] {
            m_idleTimer = 0;
            onIdleCheck();
        });

    // The target sees the connection about when a real one would see the client's first
    // bytes: after the handshake and one more one-way trip.
    const TimePoint connectAt = std::max(m_acceptedAt, m_tls.readyAt() + m_settings.latency - kUpstreamConnectLead);
    if (connectAt <= Clock::now())
        connectUpstream();
    else
        m_connectTimer = m_proxy.schedule(connectAt, [this] {
            m_connectTimer = 0;
            connectUpstream();
        });
}

void LinkProxy::Connection::connectUpstream()
{
    sockaddr_storage address{};
    const socklen_t length = toSockaddr(m_proxy.m_targetAddress, m_proxy.m_targetPort, address);
    const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        failUpstream(QStringLiteral("cannot open a socket to the target: %1").arg(errnoText(errno)));
        return;
    }
    m_server.fd = fd;
    tuneSocket(fd);
    watch(m_server);
    m_server.readNotifier->setEnabled(false);
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&address), length) == 0) {
        onConnectResult();
        return;
    }
    if (errno != EINPROGRESS) {
        failConnect(errno);
        return;
    }
    m_connecting = true;
    m_server.writeNotifier->setEnabled(true);
}

void LinkProxy::Connection::onConnectResult()
{
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(m_server.fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    m_connecting = false;
    m_server.writeNotifier->setEnabled(false);
    if (error == ECONNRESET) {
        // Connected, then reset before this was seen: what the target sent first still goes on.
        m_connected = true;
        onPeerReset(m_server);
        return;
    }
    if (error != 0) {
        failConnect(error);
        return;
    }
    m_connected = true;
    m_server.readNotifier->setEnabled(true);
    if (m_splicing)
        spliceOut(m_up);
    else
        kick(m_up);
}

void LinkProxy::Connection::failConnect(int error)
{
    failUpstream(QStringLiteral("cannot connect to the target %1:%2: %3")
                     .arg(m_proxy.m_targetAddress.toString())
                     .arg(m_proxy.m_targetPort)
                     .arg(errnoText(error)));
}

void LinkProxy::Connection::failUpstream(const QString &reason)
{
    add(m_proxy.m_counters.upstreamFailures, 1);
    LinkProxy &proxy = m_proxy;
    reset();
    emit proxy.upstreamConnectFailed(reason);
}

bool LinkProxy::Connection::destinationReady(const Flow &flow) const
{
    return &flow.dst == &m_client || m_connected;
}

bool LinkProxy::Connection::openPipes()
{
    if (m_up.splice.open(kPipeBytes) && m_down.splice.open(kPipeBytes))
        return true;
    m_up.splice.close();
    m_down.splice.close();
    return false;
}

void LinkProxy::Connection::spliceIn(Flow &flow)
{
    std::size_t moved = 0;
    switch (flow.splice.in(flow.src.fd, moved)) {
    case SpliceForwarder::Result::Moved:
        m_lastActivity = Clock::now();
        add(m_proxy.m_counters.bufferedBytes, moved);
        add(flow.counters.segments, (moved + kSegmentBytes - 1) / kSegmentBytes);
        spliceOut(flow);
        if (!m_closed && !flow.paused && flow.splice.full()) {
            flow.paused = true;
            flow.src.readNotifier->setEnabled(false);
        }
        return;
    case SpliceForwarder::Result::End:
        flow.eofRead = true;
        flow.src.readNotifier->setEnabled(false);
        spliceOut(flow);
        return;
    case SpliceForwarder::Result::WouldBlock:
        return;
    case SpliceForwarder::Result::Error:
        if (flow.splice.error() == ECONNRESET)
            onPeerReset(flow.src);
        else
            reset();
        return;
    }
}

void LinkProxy::Connection::spliceOut(Flow &flow)
{
    if (m_closed || !destinationReady(flow) || flow.dst.writeWanted)
        return;
    std::size_t moved = 0;
    const SpliceForwarder::Result result = flow.splice.out(flow.dst.fd, moved);
    subtract(m_proxy.m_counters.bufferedBytes, moved);
    add(flow.counters.bytes, moved);
    if (result == SpliceForwarder::Result::WouldBlock) {
        flow.dst.writeWanted = true;
        flow.dst.writeNotifier->setEnabled(true);
        return;
    }
    if (result == SpliceForwarder::Result::Error) {
        onWriteFailed(flow, flow.splice.error());
        return;
    }
    if (flow.resetPending) {
        reset();
        return;
    }
    if (flow.paused && !flow.eofRead) {
        flow.paused = false;
        flow.src.readNotifier->setEnabled(true);
    }
    if (flow.eofRead && !flow.finSent) {
        ::shutdown(flow.dst.fd, SHUT_WR);
        flow.finSent = true;
        maybeFinish();
    }
}

void LinkProxy::Connection::onReadable(Flow &flow)
{
    if (m_splicing) {
        spliceIn(flow);
        return;
    }
    // Never read far beyond the buffer limit: the sender keeps the rest and feels the backpressure.
    const std::uint64_t queued = flow.copy.queue().bytes();
    const std::uint64_t room = m_proxy.m_maxBufferedBytes > queued ? m_proxy.m_maxBufferedBytes - queued : 0;
    const auto want = static_cast<std::size_t>(std::clamp<std::uint64_t>(room, kSegmentBytes, kReadBytes));
    TimePoint arrival;
    const ssize_t n = net::receiveStamped(flow.src.fd, m_proxy.m_readBuffer.get(), want, arrival);
    if (n > 0) {
        m_lastActivity = arrival;
        if (m_tap && &flow == &m_down)
            m_tap->bytesFromTarget(m_proxy.m_readBuffer.get(), static_cast<std::size_t>(n), arrival);
        enqueue(flow, m_proxy.m_readBuffer.get(), static_cast<std::size_t>(n), arrival);
        return;
    }
    if (n == 0) {
        if (m_tap && &flow == &m_down)
            m_tap->targetClosed(Clock::now());
        onEndOfStream(flow);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    if (errno == ECONNRESET)
        onPeerReset(flow.src);
    else
        reset();
}

void LinkProxy::Connection::onPeerReset(Side &side)
{
    if (m_closed)
        return;
    watchTlsEnd(side);
    // `from` carries the gone side's bytes, and now its RST, to the other side; `to` carried
    // bytes toward it, which no longer have anywhere to go.
    Flow &from = &side == &m_client ? m_up : m_down;
    Flow &to = &from == &m_up ? m_down : m_up;
    if (!destinationReady(from) || from.dstGone) {
        reset();
        return;
    }
    to.dstGone = true;
    to.eofRead = true;
    if (to.src.readNotifier)
        to.src.readNotifier->setEnabled(false);
    cancel(to.timer);
    subtract(m_proxy.m_counters.bufferedBytes, to.copy.queue().bytes() + to.splice.discard());
    to.copy.queue().clear();
    // The bytes the peer sent before its RST are still to be read; they go first.
    if (!from.eofRead)
        drainBeforeReset(from);
    if (m_closed)
        return;
    from.eofRead = true;
    from.src.readNotifier->setEnabled(false);
    if (m_splicing) {
        // No delay: the bytes in the pipe arrive, then the RST.
        from.resetPending = true;
        spliceOut(from);
        return;
    }
    // The RST travels behind the bytes sent before it; what it overtakes (a lost segment not
    // yet recovered, and all behind it) is never delivered.
    const TimePoint arrives = from.pipeline.finRelease(sentAt(from, Clock::now()));
    subtract(m_proxy.m_counters.bufferedBytes, from.copy.queue().pushReset(arrives));
    cancel(from.timer);
    kick(from);
}

void LinkProxy::Connection::drainBeforeReset(Flow &flow)
{
    for (int round = 0; round < kDrainRounds && !m_closed; ++round) {
        if (m_splicing) {
            std::size_t moved = 0;
            if (flow.splice.full() || flow.splice.in(flow.src.fd, moved) != SpliceForwarder::Result::Moved)
                return;
            add(m_proxy.m_counters.bufferedBytes, moved);
            spliceOut(flow);
            continue;
        }
        TimePoint arrival;
        const ssize_t n = net::receiveStamped(flow.src.fd, m_proxy.m_readBuffer.get(), kReadBytes, arrival);
        if (n <= 0)
            return;
        enqueue(flow, m_proxy.m_readBuffer.get(), static_cast<std::size_t>(n), arrival);
    }
}

void LinkProxy::Connection::onWriteFailed(Flow &flow, int error)
{
    // Writing to a peer that has reset its end: the same as reading its RST.
    if (error == ECONNRESET || error == EPIPE)
        onPeerReset(flow.dst);
    else
        reset();
}

void LinkProxy::Connection::onEndOfStream(Flow &flow)
{
    // Half-close: the FIN follows the bytes before it, with the same delay.
    watchTlsEnd(flow.src);
    flow.eofRead = true;
    flow.src.readNotifier->setEnabled(false);
    const bool wasEmpty = flow.copy.queue().empty();
    flow.copy.queue().pushFin(flow.pipeline.finRelease(sentAt(flow, Clock::now())));
    if (wasEmpty)
        kick(flow);
}

bool LinkProxy::Connection::writeDirect(Flow &flow, const char *&data, std::size_t &size, TimePoint release)
{
    const ssize_t written = ::send(flow.dst.fd, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        onWriteFailed(flow, errno);
        return false;
    }
    const auto bytes = static_cast<std::size_t>(std::max<ssize_t>(written, 0));
    add(flow.counters.bytes, bytes);
    if (bytes > 0)
        recordWritten(flow, bytes, release, Clock::now());
    data += bytes;
    size -= bytes;
    return true;
}

void LinkProxy::Connection::enqueue(Flow &flow, const char *data, std::size_t size, TimePoint arrival)
{
    if (m_tlsWatch.pending())
        watchTls(flow, data, size);
    ReleaseQueue &queue = flow.copy.queue();
    const bool wasEmpty = queue.empty();
    const TimePoint sent = sentAt(flow, arrival);
    add(flow.counters.segments, (size + kSegmentBytes - 1) / kSegmentBytes);
    const std::size_t before = queue.bytes();
    const std::uint64_t base = flow.admitted;
    flow.queueToStream = static_cast<std::int64_t>(base) - static_cast<std::int64_t>(queue.nextOffset());
    flow.admitted += size;
    const auto late = m_settings.lateBy;
    const int lost = flow.pipeline.admit(
        sent, queue.nextOffset(), size,
        [&](TimePoint release, std::size_t from, std::size_t length, bool pinned) {
            if (m_closed || flow.dstGone)
                return;
            if (m_record)
                m_record->admit(flow.direction, base + from + length, arrival, release, pinned);
            const char *bytes = data + from;
            std::size_t left = length;
            // Nothing to wait for: write straight from the read buffer, queue what is left.
            if (queue.empty() && !pinned && release + late <= arrival && destinationReady(flow) && !flow.dst.writeWanted
                && !writeDirect(flow, bytes, left, release))
                return;
            if (m_closed || flow.dstGone)
                return;
            m_proxy.m_lastRelease = std::max(m_proxy.m_lastRelease, release);
            queue.push(release, bytes, left, pinned);
        },
        [&](std::uint64_t offset, TimePoint release) { revise(flow, offset, release); });
    if (m_closed || flow.dstGone)
        return;
    add(m_proxy.m_counters.bufferedBytes, queue.bytes() - before);
    add(flow.counters.retransmittedSegments, static_cast<std::uint64_t>(lost));

    if (!flow.paused && queue.bytes() > m_proxy.m_maxBufferedBytes) {
        flow.paused = true;
        flow.src.readNotifier->setEnabled(false);
    }
    if (wasEmpty)
        kick(flow);
}

void LinkProxy::Connection::revise(Flow &flow, std::uint64_t offset, TimePoint release)
{
    ReleaseQueue &queue = flow.copy.queue();
    m_proxy.m_lastRelease = std::max(m_proxy.m_lastRelease, release);
    if (m_record)
        m_record->revise(flow.direction, static_cast<std::uint64_t>(static_cast<std::int64_t>(offset) + flow.queueToStream),
                         release);
    if (!queue.revise(offset, release) || queue.front().offset != offset)
        return;
    // The head moved: its wake-up moves with it.
    cancel(flow.timer);
    kick(flow);
}

void LinkProxy::Connection::recordWritten(Flow &flow, std::size_t bytes, TimePoint intended, TimePoint at)
{
    flow.written += bytes;
    if (m_record)
        m_record->add(flow.direction, flow.written, intended, at);
}

void LinkProxy::Connection::scheduleFlush(Flow &flow, TimePoint when)
{
    flow.timer = m_proxy.schedule(when, [this, &flow] {
        flow.timer = 0;
        flush(flow);
    });
}

void LinkProxy::Connection::kick(Flow &flow)
{
    const ReleaseQueue &queue = flow.copy.queue();
    if (m_closed || queue.empty() || !destinationReady(flow) || flow.dst.writeWanted || flow.timer != 0)
        return;
    if (queue.front().release + m_settings.lateBy <= Clock::now()) {
        flush(flow);
        return;
    }
    scheduleFlush(flow, queue.front().release + m_settings.lateBy);
}

void LinkProxy::Connection::flush(Flow &flow)
{
    if (m_closed || !destinationReady(flow) || flow.dst.writeWanted)
        return;
    const TimePoint now = Clock::now();
    CopyForwarder::Written written;
    const CopyForwarder::Result result = flow.copy.flush(flow.dst.fd, now - m_settings.lateBy, written);
    if (written.bytes > 0) {
        subtract(m_proxy.m_counters.bufferedBytes, written.bytes);
        add(flow.counters.bytes, written.bytes);
        m_lastActivity = now;
        recordWritten(flow, written.bytes, written.intended, now);
    }
    switch (result) {
    case CopyForwarder::Result::Error:
        onWriteFailed(flow, flow.copy.error());
        return;
    case CopyForwarder::Result::Reset:
        reset();
        return;
    case CopyForwarder::Result::Fin:
        flow.finSent = true;
        maybeFinish();
        return;
    case CopyForwarder::Result::Blocked:
        flow.dst.writeWanted = true;
        flow.dst.writeNotifier->setEnabled(true);
        break;
    case CopyForwarder::Result::Idle:
        if (!flow.copy.queue().empty() && flow.timer == 0)
            scheduleFlush(flow, flow.copy.queue().front().release + m_settings.lateBy);
        break;
    }
    resumeReading(flow);
}

void LinkProxy::Connection::resumeReading(Flow &flow)
{
    if (flow.paused && flow.copy.queue().bytes() <= m_proxy.m_maxBufferedBytes / 2) {
        flow.paused = false;
        if (!flow.eofRead)
            flow.src.readNotifier->setEnabled(true);
    }
}

void LinkProxy::Connection::onWritable(Side &side)
{
    if (m_closed)
        return;
    if (&side == &m_server && m_connecting) {
        onConnectResult();
        return;
    }
    side.writeWanted = false;
    side.writeNotifier->setEnabled(false);
    Flow &flow = &side == &m_server ? m_up : m_down;
    if (m_splicing)
        spliceOut(flow);
    else
        flush(flow);
}

void LinkProxy::Connection::onIdleCheck()
{
    // Bytes still travelling the link keep it busy.
    const bool inFlight = m_up.timer != 0 || m_down.timer != 0;
    const auto next = m_idle.check(Clock::now(), m_lastActivity, inFlight);
    if (!next) {
        reap(ReapCause::IdleTimeout);
        return;
    }
    m_idleTimer = m_proxy.schedule(*next, [this] {
        m_idleTimer = 0;
        onIdleCheck();
    });
}

void LinkProxy::Connection::watchTls(const Flow &flow, const char *data, std::size_t size)
{
    if (&flow == &m_up)
        m_tlsWatch.fromClient(data, size);
    else
        m_tlsWatch.fromTarget(data, size);
    reportTls();
}

// A peer's FIN or RST; a connection the link itself ends (reap, outage, close) is not judged.
void LinkProxy::Connection::watchTlsEnd(const Side &side)
{
    if (!m_tlsWatch.pending())
        return;
    if (&side == &m_client)
        m_tlsWatch.clientEnded();
    else
        m_tlsWatch.targetEnded();
    reportTls();
}

void LinkProxy::Connection::reportTls()
{
    if (m_tlsWatch.failed())
        m_proxy.noteTlsFailure(m_tlsWatch.cause());
}

void LinkProxy::Connection::maybeFinish()
{
    if (m_up.finSent && m_down.finSent)
        close();
}

void LinkProxy::Connection::closeSockets(bool withReset)
{
    m_closed = true;
    cancel(m_connectTimer);
    cancel(m_idleTimer);
    cancel(m_maxTimer);
    cancel(m_up.timer);
    cancel(m_down.timer);
    for (Side *side : {&m_client, &m_server}) {
        // Unregister before the descriptor is closed; the notifiers are deleted with the
        // connection, outside of their own signal.
        if (side->readNotifier)
            side->readNotifier->setEnabled(false);
        if (side->writeNotifier)
            side->writeNotifier->setEnabled(false);
        if (side->fd >= 0) {
            if (withReset)
                closeWithReset(side->fd);
            else
                ::close(side->fd);
            side->fd = -1;
        }
    }
    std::uint64_t held = 0;
    for (Flow *flow : {&m_up, &m_down}) {
        held += flow->copy.queue().bytes() + flow->splice.discard();
        flow->splice.close();
        flow->copy.queue().clear();
    }
    if (m_splicing) {
        m_splicing = false;
        --m_proxy.m_splicingConnections;
    }
    subtract(m_proxy.m_counters.bufferedBytes, held);
}

void LinkProxy::Connection::reset()
{
    if (m_closed)
        return;
    closeSockets(true);
    add(m_proxy.m_counters.resets, 1);
    m_proxy.retire(this);
}

void LinkProxy::Connection::close()
{
    if (m_closed)
        return;
    closeSockets(false);
    m_proxy.retire(this);
}

void LinkProxy::Connection::reap(ReapCause cause)
{
    if (m_closed)
        return;
    closeSockets(FaultPolicy::resets(cause));
    add(m_proxy.m_counters.reaps[static_cast<std::size_t>(cause)], 1);
    LinkProxy &proxy = m_proxy;
    proxy.retire(this);
    emit proxy.connectionReaped(cause);
}

} // namespace edgesse::link
