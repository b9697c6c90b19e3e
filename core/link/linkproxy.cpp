#include "core/link/linkproxy.h"

#include "core/link/jitter.h"
#include "core/net/stampedreceive.h"

#include <QSocketNotifier>

#include <algorithm>
#include <ctime>
#include <cerrno>
#include <cstring>
#include <deque>

#include <fcntl.h>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace edgesse::link {

using namespace std::chrono_literals;
using Id = net::DeadlineQueue::Id;

namespace {

constexpr std::size_t kReadBytes = 256 * 1024;
constexpr int kMaxIov = 32;
constexpr int kAcceptsPerWakeup = 64;
// The upstream connect starts this much before the client's first bytes may reach the
// target, so those bytes do not wait for the loopback connect itself.
constexpr auto kUpstreamConnectLead = 1ms;
constexpr auto kAcceptRetry = 100ms;
// A link that adds no delay at all forwards through kernel pipes (splice), without copying
// the bytes through user space; a few connections at a time, as each costs four descriptors.
constexpr int kPipeBytes = 1024 * 1024;
constexpr int kMaxSplicingConnections = 16;

void add(std::atomic<std::uint64_t> &counter, std::uint64_t n)
{
    // One writer (the proxy's thread); readers on other threads only load.
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

void subtract(std::atomic<std::uint64_t> &counter, std::uint64_t n)
{
    counter.store(counter.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}

socklen_t toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage &storage)
{
    std::memset(&storage, 0, sizeof storage);
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR ip = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &ip, sizeof ip);
        return sizeof(sockaddr_in6);
    }
    auto *in4 = reinterpret_cast<sockaddr_in *>(&storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    in4->sin_addr.s_addr = htonl(address.toIPv4Address());
    return sizeof(sockaddr_in);
}

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

void tuneSocket(int fd)
{
    // The link does its own timing: no Nagle delay on top of it. Received bytes carry the
    // kernel's receive time, so a late read does not make the bytes late.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    net::enableReceiveTimestamps(fd);
}

void closeWithReset(int fd)
{
    const linger abortive{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    ::close(fd);
}

} // namespace

// One proxied connection: the accepted client socket, the upstream socket, and a pipe each
// way holding bytes until their release time.
class LinkProxy::Connection
{
public:
    Connection(LinkProxy &proxy, int clientFd, std::uint64_t index, TimePoint acceptedAt);
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
    struct Chunk {
        TimePoint release;
        std::string bytes;
        std::size_t offset = 0;
        bool fin = false;
    };
    struct Pipe {
        Pipe(Side &from, Side &to, AtomicDirection &counters_, const LinkSettings &settings, std::uint64_t seed)
            : src(from)
            , dst(to)
            , counters(counters_)
            , jitter(settings.distribution, settings.jitter, deriveSeed(seed, 0))
            , loss(deriveSeed(seed, 1))
        {
        }
        Side &src;
        Side &dst;
        AtomicDirection &counters;
        JitterSampler jitter;
        Random loss;
        std::deque<Chunk> queue;
        std::uint64_t queuedBytes = 0;
        TimePoint floor{};    // no byte leaves before the previous one: no reordering
        TimePoint bucketAt{}; // token bucket: the time its tokens were last brought to zero
        Id timer = 0;
        int pipeRead = -1; // splice mode only
        int pipeWrite = -1;
        std::size_t inPipe = 0;
        std::size_t pipeCapacity = 0;
        bool eofRead = false;
        bool finSent = false;
        bool paused = false;
    };

    void watch(Side &side);
    void connectUpstream();
    void onConnectResult();
    void failUpstream(const QString &reason);
    void failConnect(int error); // failUpstream() naming the target and the errno value
    void onReadable(Pipe &pipe);
    void spliceIn(Pipe &pipe);
    void spliceOut(Pipe &pipe);
    bool openPipes();
    void onWritable(Side &side);
    void enqueue(Pipe &pipe, const char *data, std::size_t size, TimePoint arrival);
    void push(Pipe &pipe, TimePoint release, const char *data, std::size_t size);
    void kick(Pipe &pipe);
    void flush(Pipe &pipe);
    void consume(Pipe &pipe, std::size_t bytes);
    bool destinationReady(const Pipe &pipe) const;
    void onIdleCheck();
    void maybeFinish();
    void closeSockets(bool withReset);
    void cancel(Id &id);

    LinkProxy &m_proxy;
    const LinkSettings &m_settings;
    Side m_client;
    Side m_server;
    Pipe m_up;
    Pipe m_down;
    TimePoint m_acceptedAt;
    TimePoint m_handshakeDone;
    TimePoint m_lastActivity;
    Id m_connectTimer = 0;
    Id m_idleTimer = 0;
    Id m_maxTimer = 0;
    std::unique_ptr<SseTap> m_tap; // the target's responses, observed
    bool m_splicing = false;
    bool m_connecting = false;
    bool m_connected = false;
    bool m_closed = false;
};

LinkProxy::Connection::Connection(LinkProxy &proxy, int clientFd, std::uint64_t index, TimePoint acceptedAt)
    : m_proxy(proxy)
    , m_settings(proxy.m_settings)
    , m_up(m_client, m_server, proxy.m_counters.upstream, proxy.m_settings,
           deriveSeed(proxy.m_settings.seed, 2 * index))
    , m_down(m_server, m_client, proxy.m_counters.downstream, proxy.m_settings,
             deriveSeed(proxy.m_settings.seed, 2 * index + 1))
    , m_acceptedAt(acceptedAt)
    , m_handshakeDone(acceptedAt + proxy.m_settings.handshake())
    , m_lastActivity(acceptedAt)
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
    Pipe &from = &side == &m_client ? m_up : m_down;
    QObject::connect(side.readNotifier.get(), &QSocketNotifier::activated, side.readNotifier.get(),
                     [this, &from] { onReadable(from); });
    QObject::connect(side.writeNotifier.get(), &QSocketNotifier::activated, side.writeNotifier.get(),
                     [this, &side] { onWritable(side); });
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

    if (m_settings.maxDuration)
        m_maxTimer = m_proxy.schedule(m_acceptedAt + *m_settings.maxDuration, [this] {
            m_maxTimer = 0;
            reap(ReapCause::MaxDuration);
        });
    if (m_settings.idleTimeout)
        m_idleTimer = m_proxy.schedule(m_acceptedAt + *m_settings.idleTimeout, [this] {
            m_idleTimer = 0;
            onIdleCheck();
        });

    // The target sees the connection about when a real one would see the client's first
    // bytes: after the handshake and one more one-way trip.
    const TimePoint connectAt = std::max(m_acceptedAt, m_handshakeDone + m_settings.latency - kUpstreamConnectLead);
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

bool LinkProxy::Connection::destinationReady(const Pipe &pipe) const
{
    return &pipe.dst == &m_client || m_connected;
}

bool LinkProxy::Connection::openPipes()
{
    for (Pipe *pipe : {&m_up, &m_down}) {
        int fds[2];
        if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
            break;
        pipe->pipeRead = fds[0];
        pipe->pipeWrite = fds[1];
        ::fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);
        const int capacity = ::fcntl(fds[1], F_GETPIPE_SZ);
        pipe->pipeCapacity = capacity > 0 ? static_cast<std::size_t>(capacity) : 0;
        if (pipe->pipeCapacity == 0)
            break;
    }
    if (m_up.pipeCapacity > 0 && m_down.pipeCapacity > 0)
        return true;
    for (Pipe *pipe : {&m_up, &m_down}) {
        for (int *fd : {&pipe->pipeRead, &pipe->pipeWrite}) {
            if (*fd >= 0)
                ::close(*fd);
            *fd = -1;
        }
    }
    return false;
}

void LinkProxy::Connection::spliceIn(Pipe &pipe)
{
    const ssize_t n = ::splice(pipe.src.fd, nullptr, pipe.pipeWrite, nullptr, pipe.pipeCapacity - pipe.inPipe,
                               SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
        m_lastActivity = Clock::now();
        pipe.inPipe += static_cast<std::size_t>(n);
        add(m_proxy.m_counters.bufferedBytes, static_cast<std::uint64_t>(n));
        add(pipe.counters.segments, (static_cast<std::size_t>(n) + kSegmentBytes - 1) / kSegmentBytes);
        spliceOut(pipe);
        if (!m_closed && !pipe.paused && pipe.inPipe >= pipe.pipeCapacity) {
            pipe.paused = true;
            pipe.src.readNotifier->setEnabled(false);
        }
        return;
    }
    if (n == 0) {
        pipe.eofRead = true;
        pipe.src.readNotifier->setEnabled(false);
        spliceOut(pipe);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    reset();
}

void LinkProxy::Connection::spliceOut(Pipe &pipe)
{
    if (m_closed || !destinationReady(pipe) || pipe.dst.writeWanted)
        return;
    while (pipe.inPipe > 0) {
        const ssize_t n = ::splice(pipe.pipeRead, nullptr, pipe.dst.fd, nullptr, pipe.inPipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            pipe.inPipe -= static_cast<std::size_t>(n);
            subtract(m_proxy.m_counters.bufferedBytes, static_cast<std::uint64_t>(n));
            add(pipe.counters.bytes, static_cast<std::uint64_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            pipe.dst.writeWanted = true;
            pipe.dst.writeNotifier->setEnabled(true);
            return;
        }
        reset();
        return;
    }
    if (pipe.paused && !pipe.eofRead) {
        pipe.paused = false;
        pipe.src.readNotifier->setEnabled(true);
    }
    if (pipe.eofRead && !pipe.finSent) {
        ::shutdown(pipe.dst.fd, SHUT_WR);
        pipe.finSent = true;
        maybeFinish();
    }
}

void LinkProxy::Connection::onReadable(Pipe &pipe)
{
    if (m_splicing) {
        spliceIn(pipe);
        return;
    }
    // Never read far beyond the buffer limit: the sender keeps the rest and feels the backpressure.
    const std::uint64_t room = m_proxy.m_maxBufferedBytes > pipe.queuedBytes ? m_proxy.m_maxBufferedBytes - pipe.queuedBytes : 0;
    const auto want = static_cast<std::size_t>(std::clamp<std::uint64_t>(room, kSegmentBytes, kReadBytes));
    TimePoint arrival;
    const ssize_t n = net::receiveStamped(pipe.src.fd, m_proxy.m_readBuffer.get(), want, arrival);
    if (n > 0) {
        m_lastActivity = arrival;
        if (m_tap && &pipe == &m_down)
            m_tap->bytesFromTarget(m_proxy.m_readBuffer.get(), static_cast<std::size_t>(n), arrival);
        enqueue(pipe, m_proxy.m_readBuffer.get(), static_cast<std::size_t>(n), arrival);
        return;
    }
    if (n == 0) {
        // Half-close: the FIN follows the bytes before it, with the same delay.
        pipe.eofRead = true;
        pipe.src.readNotifier->setEnabled(false);
        const bool wasEmpty = pipe.queue.empty();
        const TimePoint now = Clock::now();
        if (m_tap && &pipe == &m_down)
            m_tap->targetClosed(now);
        TimePoint release = (&pipe == &m_up ? std::max(now, m_handshakeDone) : now) + m_settings.latency;
        release = std::max(release, pipe.floor);
        pipe.floor = release;
        pipe.queue.push_back({release, {}, 0, true});
        if (wasEmpty)
            kick(pipe);
        return;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
    reset();
}

void LinkProxy::Connection::enqueue(Pipe &pipe, const char *data, std::size_t size, TimePoint arrival)
{
    const bool wasEmpty = pipe.queue.empty();
    // Bytes a client sends before its connect would have completed count as sent then.
    const TimePoint sent = &pipe == &m_up ? std::max(arrival, m_handshakeDone) : arrival;
    const auto delay = std::max(std::chrono::nanoseconds{0}, std::chrono::nanoseconds{m_settings.latency} + pipe.jitter.next());

    add(pipe.counters.segments, (size + kSegmentBytes - 1) / kSegmentBytes);
    const std::uint64_t bandwidth = m_settings.bandwidthBitsPerSecond;
    const double lossProbability = m_settings.lossProbability;
    if (bandwidth == 0 && lossProbability <= 0) {
        const TimePoint release = sent + delay;
        if (wasEmpty && release <= arrival && pipe.floor <= arrival && destinationReady(pipe) && !pipe.dst.writeWanted) {
            // Nothing to wait for: write straight from the read buffer, queue what is left.
            const ssize_t written = ::send(pipe.dst.fd, data, size, MSG_NOSIGNAL);
            if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                reset();
                return;
            }
            const auto bytes = static_cast<std::size_t>(std::max<ssize_t>(written, 0));
            add(pipe.counters.bytes, bytes);
            if (bytes == size)
                return;
            data += bytes;
            size -= bytes;
        }
        push(pipe, release, data, size);
    } else {
        const std::size_t piece = lossProbability > 0 ? kSegmentBytes : m_proxy.m_paceBytes;
        const double nsPerByte = bandwidth > 0 ? 8e9 / static_cast<double>(bandwidth) : 0;
        const auto bucketDepth = std::chrono::nanoseconds{static_cast<std::int64_t>(nsPerByte * static_cast<double>(m_proxy.m_paceBytes))};
        const auto penalty = std::chrono::nanoseconds{m_settings.lossRecovery == LossRecovery::FastRetransmit
                                                          ? m_settings.roundTrip()
                                                          : m_settings.retransmissionTimeout()};
        for (std::size_t offset = 0; offset < size;) {
            const std::size_t length = std::min(piece, size - offset);
            TimePoint departs = sent;
            if (bandwidth > 0) {
                // Token bucket holding at most bucketDepth worth of tokens.
                pipe.bucketAt = std::max(pipe.bucketAt, sent - bucketDepth)
                    + std::chrono::nanoseconds{static_cast<std::int64_t>(nsPerByte * static_cast<double>(length))};
                departs = std::max(sent, pipe.bucketAt);
            }
            TimePoint release = departs + delay;
            if (lossProbability > 0 && pipe.loss.uniform() < lossProbability) {
                release += penalty;
                add(pipe.counters.retransmittedSegments, 1);
            }
            push(pipe, release, data + offset, length);
            offset += length;
        }
    }

    if (!pipe.paused && pipe.queuedBytes > m_proxy.m_maxBufferedBytes) {
        pipe.paused = true;
        pipe.src.readNotifier->setEnabled(false);
    }
    if (wasEmpty)
        kick(pipe);
}

void LinkProxy::Connection::push(Pipe &pipe, TimePoint release, const char *data, std::size_t size)
{
    if (release < pipe.floor)
        release = pipe.floor;
    pipe.floor = release;
    pipe.queuedBytes += size;
    add(m_proxy.m_counters.bufferedBytes, size);
    if (!pipe.queue.empty() && pipe.queue.back().release == release && !pipe.queue.back().fin) {
        pipe.queue.back().bytes.append(data, size);
        return;
    }
    pipe.queue.push_back({release, std::string(data, size), 0, false});
}

void LinkProxy::Connection::kick(Pipe &pipe)
{
    if (m_closed || pipe.queue.empty() || !destinationReady(pipe) || pipe.dst.writeWanted || pipe.timer != 0)
        return;
    if (pipe.queue.front().release <= Clock::now()) {
        flush(pipe);
        return;
    }
    pipe.timer = m_proxy.schedule(pipe.queue.front().release, [this, &pipe] {
        pipe.timer = 0;
        flush(pipe);
    });
}

void LinkProxy::Connection::consume(Pipe &pipe, std::size_t bytes)
{
    pipe.queuedBytes -= bytes;
    subtract(m_proxy.m_counters.bufferedBytes, bytes);
    while (bytes > 0) {
        Chunk &chunk = pipe.queue.front();
        const std::size_t left = chunk.bytes.size() - chunk.offset;
        if (bytes < left) {
            chunk.offset += bytes;
            return;
        }
        bytes -= left;
        pipe.queue.pop_front();
    }
}

void LinkProxy::Connection::flush(Pipe &pipe)
{
    if (m_closed || !destinationReady(pipe) || pipe.dst.writeWanted)
        return;
    const TimePoint now = Clock::now();
    while (!pipe.queue.empty() && pipe.queue.front().release <= now) {
        if (pipe.queue.front().fin) {
            pipe.queue.pop_front();
            ::shutdown(pipe.dst.fd, SHUT_WR);
            pipe.finSent = true;
            maybeFinish();
            return;
        }
        iovec iov[kMaxIov];
        int count = 0;
        std::size_t total = 0;
        for (auto it = pipe.queue.begin(); it != pipe.queue.end() && count < kMaxIov && it->release <= now && !it->fin; ++it) {
            iov[count].iov_base = it->bytes.data() + it->offset;
            iov[count].iov_len = it->bytes.size() - it->offset;
            total += iov[count].iov_len;
            ++count;
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = static_cast<decltype(message.msg_iovlen)>(count);
        const ssize_t written = ::sendmsg(pipe.dst.fd, &message, MSG_NOSIGNAL);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            reset();
            return;
        }
        const auto bytes = static_cast<std::size_t>(written);
        consume(pipe, bytes);
        add(pipe.counters.bytes, bytes);
        m_lastActivity = now;
        if (bytes < total)
            break;
    }

    if (!pipe.queue.empty()) {
        if (pipe.queue.front().release <= now) {
            pipe.dst.writeWanted = true;
            pipe.dst.writeNotifier->setEnabled(true);
        } else if (pipe.timer == 0) {
            pipe.timer = m_proxy.schedule(pipe.queue.front().release, [this, &pipe] {
                pipe.timer = 0;
                flush(pipe);
            });
        }
    }
    if (pipe.paused && pipe.queuedBytes <= m_proxy.m_maxBufferedBytes / 2) {
        pipe.paused = false;
        if (!pipe.eofRead)
            pipe.src.readNotifier->setEnabled(true);
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
    Pipe &pipe = &side == &m_server ? m_up : m_down;
    if (m_splicing)
        spliceOut(pipe);
    else
        flush(pipe);
}

void LinkProxy::Connection::onIdleCheck()
{
    const auto idle = *m_settings.idleTimeout;
    const TimePoint now = Clock::now();
    // Bytes still travelling the link keep it busy.
    const bool inFlight = m_up.timer != 0 || m_down.timer != 0;
    if (now - m_lastActivity >= idle && !inFlight) {
        reap(ReapCause::IdleTimeout);
        return;
    }
    const TimePoint next = std::max(m_lastActivity + idle, now + 1ms);
    m_idleTimer = m_proxy.schedule(next, [this] {
        m_idleTimer = 0;
        onIdleCheck();
    });
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
    for (Pipe *pipe : {&m_up, &m_down}) {
        for (int *fd : {&pipe->pipeRead, &pipe->pipeWrite}) {
            if (*fd >= 0)
                ::close(*fd);
            *fd = -1;
        }
    }
    if (m_splicing) {
        m_splicing = false;
        --m_proxy.m_splicingConnections;
    }
    subtract(m_proxy.m_counters.bufferedBytes, m_up.queuedBytes + m_down.queuedBytes + m_up.inPipe + m_down.inPipe);
    m_up.queuedBytes = m_down.queuedBytes = 0;
    m_up.inPipe = m_down.inPipe = 0;
    m_up.queue.clear();
    m_down.queue.clear();
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
    // A gateway closes (FIN) on its timeouts; a link going down resets.
    closeSockets(cause == ReapCause::LinkDown);
    add(m_proxy.m_counters.reaps[static_cast<std::size_t>(cause)], 1);
    LinkProxy &proxy = m_proxy;
    proxy.retire(this);
    emit proxy.connectionReaped(cause);
}

// ---------------------------------------------------------------------------------------

LinkProxy::LinkProxy(const LinkSettings &settings, const QHostAddress &targetAddress, quint16 targetPort,
                     net::DeadlineQueue &deadlines, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_targetAddress(targetAddress)
    , m_targetPort(targetPort)
    , m_deadlines(&deadlines)
    , m_readBuffer(std::make_unique<char[]>(kReadBytes))
{
    m_maxBufferedBytes = m_settings.effectiveMaxBufferedBytes();
    m_passThrough = m_settings.latency.count() == 0 && m_settings.jitter.count() == 0
        && m_settings.bandwidthBitsPerSecond == 0 && m_settings.lossProbability <= 0;
    // Paced pieces of about a millisecond of the link's rate, one segment at least.
    const std::uint64_t perMs = m_settings.bandwidthBitsPerSecond / 8 / 1000;
    m_paceBytes = static_cast<std::size_t>(std::clamp<std::uint64_t>(perMs, kSegmentBytes, 64 * 1024));
}

void LinkProxy::setTap(SseTap::Factory factory)
{
    m_tapFactory = std::move(factory);
    if (m_tapFactory)
        m_passThrough = false;
}

LinkProxy::~LinkProxy()
{
    for (Id id : m_faultIds)
        cancelDeadline(id);
    m_faultIds.clear();
    if (m_acceptRetryId != 0)
        cancelDeadline(m_acceptRetryId);
    closeListener();
    const QSignalBlocker blocker(this);
    std::vector<Connection *> open;
    open.reserve(m_connections.size());
    for (auto &entry : m_connections)
        open.push_back(entry.first);
    for (Connection *connection : open)
        connection->close();
    if (m_sweepId != 0)
        cancelDeadline(m_sweepId);
    m_retired.clear();
}

bool LinkProxy::listen(const QHostAddress &address, quint16 port)
{
    m_error.clear();
    if (const QString problem = m_settings.validationError(); !problem.isEmpty()) {
        m_error = problem;
        return false;
    }
    if (const net::DeadlineQueue *queue = m_deadlines.data(); queue == nullptr || !queue->isValid()) {
        m_error = QStringLiteral("the data-plane timer is unavailable (timerfd_create failed); links cannot run");
        return false;
    }
    if (m_targetAddress.isNull() || m_targetPort == 0) {
        m_error = QStringLiteral("the link has no target address and port to forward to");
        return false;
    }
    if (m_listenFd >= 0) {
        m_error = QStringLiteral("the link is already listening on port %1").arg(m_port);
        return false;
    }
    return openListener(address, port);
}

bool LinkProxy::openListener(const QHostAddress &address, quint16 port)
{
    sockaddr_storage storage{};
    const socklen_t length = toSockaddr(address, port, storage);
    const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        m_error = QStringLiteral("cannot open the link's listening socket: %1").arg(errnoText(errno));
        return false;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&storage), length) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        const int error = errno;
        ::close(fd);
        m_error = QStringLiteral("cannot listen on %1:%2 for the link: %3%4")
                      .arg(address.toString())
                      .arg(port)
                      .arg(errnoText(error))
                      .arg(error == EADDRINUSE ? QStringLiteral(" (another program uses the port; choose port 0 for any free one)")
                                               : QString());
        return false;
    }
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    m_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<const sockaddr_in *>(&bound)->sin_port);
    m_address = address;
    m_listenFd = fd;
    m_listenNotifier = new QSocketNotifier(static_cast<qintptr>(fd), QSocketNotifier::Read, this);
    connect(m_listenNotifier, &QSocketNotifier::activated, this, &LinkProxy::onAcceptable);
    return true;
}

void LinkProxy::closeListener()
{
    if (m_listenNotifier) {
        m_listenNotifier->setEnabled(false);
        m_listenNotifier->deleteLater();
        m_listenNotifier = nullptr;
    }
    if (m_listenFd >= 0) {
        ::close(m_listenFd);
        m_listenFd = -1;
    }
}

void LinkProxy::close()
{
    for (Id id : m_faultIds)
        cancelDeadline(id);
    m_faultIds.clear();
    closeListener();
    m_port = 0;
    m_down = false;
    std::vector<Connection *> open;
    open.reserve(m_connections.size());
    for (auto &entry : m_connections)
        open.push_back(entry.first);
    for (Connection *connection : open)
        connection->close();
}

void LinkProxy::onAcceptable()
{
    for (int i = 0; i < kAcceptsPerWakeup && m_listenFd >= 0; ++i) {
        const int fd = ::accept4(m_listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            const int error = errno;
            if (error == EAGAIN || error == EWOULDBLOCK)
                return;
            if (error == EINTR || error == ECONNABORTED)
                continue;
            // Out of descriptors or memory: back off instead of spinning on a ready listener.
            m_listenNotifier->setEnabled(false);
            m_acceptRetryId = schedule(Clock::now() + kAcceptRetry, [this] {
                m_acceptRetryId = 0;
                if (m_listenNotifier)
                    m_listenNotifier->setEnabled(true);
            });
            emit acceptFailed(QStringLiteral("the link on port %1 cannot accept a connection: %2%3")
                                  .arg(m_port)
                                  .arg(errnoText(error))
                                  .arg(error == EMFILE || error == ENFILE
                                           ? QStringLiteral(" (raise the file-descriptor limit: ulimit -n)")
                                           : QString()));
            return;
        }
        auto connection = std::make_unique<Connection>(*this, fd, m_nextConnectionIndex++, Clock::now());
        Connection *raw = connection.get();
        m_connections.emplace(raw, std::move(connection));
        add(m_counters.connectionsOpen, 1);
        add(m_counters.connectionsTotal, 1);
        raw->start();
        emit connectionOpened();
    }
}

void LinkProxy::retire(Connection *connection)
{
    auto it = m_connections.find(connection);
    if (it == m_connections.end())
        return;
    m_retired.push_back(std::move(it->second));
    m_connections.erase(it);
    subtract(m_counters.connectionsOpen, 1);
    if (m_sweepId == 0)
        m_sweepId = schedule(Clock::now() + 0ns, [this] { sweep(); });
    emit connectionClosed();
}

void LinkProxy::sweep()
{
    m_sweepId = 0;
    m_retired.clear();
}

void LinkProxy::setDown(bool down)
{
    if (down == m_down)
        return;
    if (down) {
        m_down = true;
        closeListener();
        std::vector<Connection *> open;
        open.reserve(m_connections.size());
        for (auto &entry : m_connections)
            open.push_back(entry.first);
        for (Connection *connection : open)
            connection->reap(ReapCause::LinkDown);
        emit wentDown();
        return;
    }
    m_down = false;
    if (m_port != 0 && m_listenFd < 0 && !openListener(m_address, m_port)) {
        emit acceptFailed(m_error);
        return;
    }
    emit cameUp();
}

void LinkProxy::scheduleDown(TimePoint at)
{
    m_faultIds.push_back(schedule(at, [this] { setDown(true); }));
}

void LinkProxy::scheduleUp(TimePoint at)
{
    m_faultIds.push_back(schedule(at, [this] { setDown(false); }));
}

void LinkProxy::scheduleOutage(std::chrono::microseconds after, std::chrono::microseconds duration)
{
    const TimePoint start = Clock::now() + after;
    scheduleDown(start);
    scheduleUp(start + duration);
}

Counters LinkProxy::snapshot() const
{
    const auto load = [](const std::atomic<std::uint64_t> &value) { return value.load(std::memory_order_relaxed); };
    const auto direction = [&](const AtomicDirection &d) {
        return DirectionCounters{load(d.bytes), load(d.segments), load(d.retransmittedSegments)};
    };
    Counters counters;
    counters.upstream = direction(m_counters.upstream);
    counters.downstream = direction(m_counters.downstream);
    counters.connectionsOpen = load(m_counters.connectionsOpen);
    counters.connectionsTotal = load(m_counters.connectionsTotal);
    counters.upstreamFailures = load(m_counters.upstreamFailures);
    counters.resets = load(m_counters.resets);
    counters.bufferedBytes = load(m_counters.bufferedBytes);
    for (std::size_t i = 0; i < counters.reaps.size(); ++i)
        counters.reaps[i] = load(m_counters.reaps[i]);
    return counters;
}

} // namespace edgesse::link
