#include "core/link/linkproxy.h"

#include "core/link/faultpolicy.h"
#include "core/link/linkconnection.h"
#include "core/link/socketops.h"
#include "core/link/syndelay.h"

#include <QSocketNotifier>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace edgesse::link {

using namespace std::chrono_literals;
using namespace detail;
using Id = net::DeadlineQueue::Id;

namespace {

constexpr int kAcceptsPerWakeup = 64;

} // namespace

LinkProxy::LinkProxy(const LinkSettings &settings, const QHostAddress &targetAddress, quint16 targetPort,
                     net::DeadlineQueue &deadlines, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_targetAddress(targetAddress)
    , m_targetPort(targetPort)
    , m_deadlines(&deadlines)
    , m_readBuffer(std::make_unique<char[]>(readBufferBytes()))
{
    m_maxBufferedBytes = m_settings.effectiveMaxBufferedBytes();
    m_passThrough = m_settings.latency.count() == 0 && m_settings.jitter.count() == 0
        && m_settings.bandwidthBitsPerSecond == 0 && m_settings.lossProbability <= 0 && m_settings.lateBy.count() == 0
        && !m_settings.realTls; // a spliced byte is never seen, and the handshake is read
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
    m_synDelay.reset();
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
    if (!openListener(address, port))
        return false;
    holdSyns();
    return true;
}

void LinkProxy::holdSyns()
{
    if (m_settings.roundTrip().count() == 0)
        return;
    QString why;
    m_synDelay = SynDelay::open(m_address, m_port, m_settings.roundTrip(), &why);
    if (!m_synDelay)
        m_connectNote = QStringLiteral("connect() through a link returns at once: %1; each handshake's round trip "
                                       "is charged to the connection's first bytes instead")
                            .arg(why);
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
    m_synDelay.reset();
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
        sockaddr_storage peer{};
        socklen_t peerLength = sizeof peer;
        const int fd = ::accept4(m_listenFd, reinterpret_cast<sockaddr *>(&peer), &peerLength, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            const int error = errno;
            const net::AcceptBackoff::Next next = m_acceptBackoff.failed(error);
            if (next == net::AcceptBackoff::Next::Retry)
                continue;
            if (next == net::AcceptBackoff::Next::Drained)
                return;
            // Out of descriptors or memory: back off instead of spinning on a ready listener.
            m_listenNotifier->setEnabled(false);
            m_acceptRetryId = schedule(Clock::now() + m_acceptBackoff.pauseFor(), [this] {
                m_acceptRetryId = 0;
                if (m_listenNotifier)
                    m_listenNotifier->setEnabled(true);
            });
            if (m_acceptBackoff.firstOfEpisode())
                emit acceptFailed(QStringLiteral("the link on port %1 cannot accept a connection: %2")
                                      .arg(m_port)
                                      .arg(net::AcceptBackoff::describe(error)));
            return;
        }
        m_acceptBackoff.accepted();
        QHostAddress client;
        client.setAddress(reinterpret_cast<const sockaddr *>(&peer));
        const quint16 clientPort = peer.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 &>(peer).sin6_port)
                                                              : ntohs(reinterpret_cast<const sockaddr_in &>(peer).sin_port);
        auto connection = std::make_unique<Connection>(*this, fd, m_nextConnectionIndex++, Clock::now(), lineFor(peer),
                                                       m_releases.open(client, clientPort));
        Connection *raw = connection.get();
        m_connections.emplace(raw, std::move(connection));
        add(m_counters.connectionsOpen, 1);
        add(m_counters.connectionsTotal, 1);
        raw->start();
        emit connectionOpened();
    }
}

LinkProxy::SharedLine *LinkProxy::lineFor(const sockaddr_storage &peer)
{
    if (m_settings.sharing == BandwidthSharing::PerConnection || m_settings.bandwidthBitsPerSecond == 0)
        return nullptr;
    std::uint64_t key = 0;
    if (m_settings.sharing == BandwidthSharing::PerPeer) {
        // A browser is told apart by its source address (each binds its own loopback address).
        if (peer.ss_family == AF_INET) {
            key = 1 + ntohl(reinterpret_cast<const sockaddr_in &>(peer).sin_addr.s_addr);
        } else if (peer.ss_family == AF_INET6) {
            const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(peer);
            std::uint64_t low = 0;
            std::memcpy(&low, in6.sin6_addr.s6_addr + 8, sizeof low);
            key = low | (1ull << 63);
        }
    }
    std::unique_ptr<SharedLine> &line = m_lines[key];
    if (!line)
        line = std::make_unique<SharedLine>(SharedLine{TokenBucket(m_settings.bandwidthBitsPerSecond, m_paceBytes),
                                                       TokenBucket(m_settings.bandwidthBitsPerSecond, m_paceBytes)});
    return line.get();
}

LinkProxy::TimePoint LinkProxy::drainedAt() const
{
    const TimePoint now = Clock::now();
    return m_counters.bufferedBytes.load(std::memory_order_relaxed) > 0 ? std::max(now, m_lastRelease) : now;
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
    const FaultPolicy::Outage outage = FaultPolicy::outage(Clock::now(), after, duration);
    scheduleDown(outage.down);
    scheduleUp(outage.up);
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
    counters.tlsHandshakeFailures = load(m_counters.tlsHandshakeFailures);
    return counters;
}

QString LinkProxy::firstTlsFailure() const
{
    std::lock_guard lock(m_tlsFailureMutex);
    return m_firstTlsFailure;
}

void LinkProxy::noteTlsFailure(const QString &cause)
{
    {
        std::lock_guard lock(m_tlsFailureMutex);
        if (m_firstTlsFailure.isEmpty())
            m_firstTlsFailure = cause;
    }
    m_counters.tlsHandshakeFailures.fetch_add(1, std::memory_order_relaxed);
    emit tlsHandshakeFailed(cause);
}

} // namespace edgesse::link
