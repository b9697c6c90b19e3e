#include "core/link/udplink.h"

#include "core/link/faultpolicy.h"
#include "core/link/idlepolicy.h"
#include "core/link/jitter.h"

#include <netinet/in.h>

#include <algorithm>

namespace edgesse::link {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

std::size_t index(Direction d)
{
    return d == Direction::Upstream ? 0 : 1;
}

std::string keyOf(const quic::SocketAddress &address)
{
    return std::string(reinterpret_cast<const char *>(&address.storage), address.length);
}

} // namespace

struct UdpLink::Binding {
    Binding(const LinkSettings &settings, std::uint64_t n)
        : up(settings, deriveSeed(settings.seed, 2 * n)), down(settings, deriveSeed(settings.seed, 2 * n + 1))
    {
    }
    std::string key;
    quic::SocketAddress client;
    std::unique_ptr<quic::UdpSocket> upstream;
    Way up;
    Way down;
    TimePoint lastActivity;
    TimePoint lastRelease;
    net::DeadlineQueue::Id idleCheck = 0;
};

UdpLink::UdpLink(const LinkSettings &settings, const QHostAddress &targetAddress, quint16 targetPort,
                 net::DeadlineQueue &deadlines, QObject *parent)
    : QObject(parent), m_settings(settings), m_target(quic::SocketAddress::from(targetAddress, targetPort)),
      m_deadlines(&deadlines), m_maxBufferedBytes(settings.effectiveMaxBufferedBytes())
{
    // A burst of about a millisecond of the line's rate, one full datagram at least.
    const std::uint64_t perMs = m_settings.bandwidthBitsPerSecond / 8 / 1000;
    m_depthBytes = static_cast<std::size_t>(std::clamp<std::uint64_t>(perMs, 1500, 64 * 1024));
}

UdpLink::~UdpLink()
{
    close();
}

bool UdpLink::listen(const QHostAddress &address, quint16 port)
{
    if (!m_socket.bind(address, port, &m_error))
        return false;
    m_socket.setReceiver([this](const quic::SocketAddress &from, const std::uint8_t *data, std::size_t size) {
        fromClient(from, data, size);
    });
    return true;
}

void UdpLink::close()
{
    if (m_deadlines) {
        for (const auto id : m_faultIds)
            m_deadlines->cancel(id);
        for (auto &[key, binding] : m_bindings) {
            if (binding->idleCheck)
                m_deadlines->cancel(binding->idleCheck);
        }
    }
    m_faultIds.clear();
    m_bindings.clear();
    m_bindingsOpen.store(0, kRelaxed);
    m_socket.close();
}

void UdpLink::scheduleOutage(std::chrono::microseconds after, std::chrono::microseconds duration)
{
    if (!m_deadlines)
        return;
    const FaultPolicy::Outage outage = FaultPolicy::outage(Clock::now(), after, duration);
    m_faultIds.push_back(m_deadlines->schedule(outage.down, [this] { setDown(true); }));
    m_faultIds.push_back(m_deadlines->schedule(outage.up, [this] { setDown(false); }));
}

UdpLink::SharedLine *UdpLink::lineFor(const quic::SocketAddress &client)
{
    if (m_settings.sharing == BandwidthSharing::PerConnection || m_settings.bandwidthBitsPerSecond == 0)
        return nullptr;
    std::uint64_t key = 0;
    if (m_settings.sharing == BandwidthSharing::PerPeer && client.storage.ss_family == AF_INET)
        key = 1 + ntohl(reinterpret_cast<const sockaddr_in &>(client.storage).sin_addr.s_addr);
    std::unique_ptr<SharedLine> &line = m_lines[key];
    if (!line)
        line = std::make_unique<SharedLine>(SharedLine{TokenBucket(m_settings.bandwidthBitsPerSecond, m_depthBytes),
                                                       TokenBucket(m_settings.bandwidthBitsPerSecond, m_depthBytes)});
    return line.get();
}

UdpLink::Binding *UdpLink::bindingFor(const quic::SocketAddress &client)
{
    const std::string key = keyOf(client);
    const auto it = m_bindings.find(key);
    if (it != m_bindings.end())
        return it->second.get();
    if (m_bindings.size() >= kMaxBindings)
        return nullptr;
    auto binding = std::make_unique<Binding>(m_settings, m_nextBinding++);
    binding->key = key;
    binding->client = client;
    binding->upstream = std::make_unique<quic::UdpSocket>();
    QString error;
    if (!binding->upstream->connectTo(m_target, QHostAddress(QHostAddress::LocalHost), &error)) {
        m_error = error;
        return nullptr;
    }
    Binding *raw = binding.get();
    raw->upstream->setReceiver([this, raw](const quic::SocketAddress &, const std::uint8_t *data, std::size_t size) {
        fromTarget(*raw, data, size);
    });
    if (SharedLine *shared = lineFor(client)) {
        raw->up.line = &shared->up;
        raw->down.line = &shared->down;
    } else {
        raw->up.own = TokenBucket(m_settings.bandwidthBitsPerSecond, m_depthBytes);
        raw->down.own = TokenBucket(m_settings.bandwidthBitsPerSecond, m_depthBytes);
        raw->up.line = &raw->up.own;
        raw->down.line = &raw->down.own;
    }
    raw->lastActivity = Clock::now();
    m_bindings.emplace(key, std::move(binding));
    m_bindingsOpen.fetch_add(1, kRelaxed);
    m_bindingsTotal.fetch_add(1, kRelaxed);
    if (m_settings.idleTimeout)
        armIdle(*raw, raw->lastActivity + *m_settings.idleTimeout);
    return raw;
}

// The NAT forgets a binding idle for the timeout (nothing sent or still on its way).
void UdpLink::armIdle(Binding &binding, TimePoint at)
{
    const std::string key = binding.key;
    binding.idleCheck = m_deadlines->schedule(at, [this, key] {
        const auto it = m_bindings.find(key);
        if (it == m_bindings.end())
            return;
        Binding &b = *it->second;
        b.idleCheck = 0;
        const IdlePolicy policy(m_settings.idleTimeout);
        const TimePoint now = Clock::now();
        const std::optional<TimePoint> next = policy.check(now, std::max(b.lastActivity, b.lastRelease), b.lastRelease > now);
        if (next) {
            armIdle(b, *next);
            return;
        }
        m_idleReaps.fetch_add(1, kRelaxed);
        m_bindingsOpen.fetch_sub(1, kRelaxed);
        m_bindings.erase(it);
    });
}

bool UdpLink::carry(Way &way, Direction direction, std::size_t size, TimePoint *release)
{
    if (!m_down && way.loss.enabled() && way.loss.lost()) {
        m_lost.fetch_add(1, kRelaxed);
        drop();
        return false;
    }
    if (m_down || m_held[index(direction)] + size > m_maxBufferedBytes) {
        drop();
        return false;
    }
    const TimePoint now = Clock::now();
    const TimePoint departed = way.line->limited() ? way.line->depart(now, size + kHeaderBytes) : now;
    *release = way.floor.apply(departed + way.propagation.next());
    m_held[index(direction)] += size;
    m_bufferedBytes.fetch_add(size, kRelaxed);
    return true;
}

void UdpLink::fromClient(const quic::SocketAddress &from, const std::uint8_t *data, std::size_t size)
{
    Binding *binding = m_down ? nullptr : bindingFor(from);
    if (!binding) {
        drop();
        return;
    }
    TimePoint release;
    if (!carry(binding->up, Direction::Upstream, size, &release))
        return;
    binding->lastActivity = Clock::now();
    binding->lastRelease = std::max(binding->lastRelease, release);
    QByteArray bytes(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    m_deadlines->schedule(release, [this, alive = std::weak_ptr<bool>(m_alive), key = binding->key, bytes = std::move(bytes)] {
        if (alive.expired())
            return;
        m_held[0] -= static_cast<std::uint64_t>(bytes.size());
        m_bufferedBytes.fetch_sub(static_cast<std::uint64_t>(bytes.size()), kRelaxed);
        const auto it = m_bindings.find(key);
        if (it == m_bindings.end() || m_down) {
            drop();
            return;
        }
        it->second->upstream->send(reinterpret_cast<const std::uint8_t *>(bytes.constData()),
                                   static_cast<std::size_t>(bytes.size()));
        m_bytes[0].fetch_add(static_cast<std::uint64_t>(bytes.size()), kRelaxed);
        m_datagrams[0].fetch_add(1, kRelaxed);
    });
}

void UdpLink::fromTarget(Binding &binding, const std::uint8_t *data, std::size_t size)
{
    TimePoint release;
    if (!carry(binding.down, Direction::Downstream, size, &release))
        return;
    binding.lastActivity = Clock::now();
    binding.lastRelease = std::max(binding.lastRelease, release);
    QByteArray bytes(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    m_deadlines->schedule(release, [this, alive = std::weak_ptr<bool>(m_alive), key = binding.key, to = binding.client,
                                    bytes = std::move(bytes)] {
        if (alive.expired())
            return;
        m_held[1] -= static_cast<std::uint64_t>(bytes.size());
        m_bufferedBytes.fetch_sub(static_cast<std::uint64_t>(bytes.size()), kRelaxed);
        if (m_down || m_bindings.find(key) == m_bindings.end()) {
            drop(); // the binding is gone: the client is no longer reachable at that port
            return;
        }
        m_socket.sendTo(to, reinterpret_cast<const std::uint8_t *>(bytes.constData()), static_cast<std::size_t>(bytes.size()));
        m_bytes[1].fetch_add(static_cast<std::uint64_t>(bytes.size()), kRelaxed);
        m_datagrams[1].fetch_add(1, kRelaxed);
    });
}

Counters UdpLink::snapshot() const
{
    Counters c;
    c.upstream.bytes = m_bytes[0].load(kRelaxed);
    c.upstream.segments = m_datagrams[0].load(kRelaxed);
    c.downstream.bytes = m_bytes[1].load(kRelaxed);
    c.downstream.segments = m_datagrams[1].load(kRelaxed);
    c.connectionsOpen = m_bindingsOpen.load(kRelaxed);
    c.connectionsTotal = m_bindingsTotal.load(kRelaxed);
    c.bufferedBytes = m_bufferedBytes.load(kRelaxed);
    c.reaps[static_cast<std::size_t>(ReapCause::IdleTimeout)] = m_idleReaps.load(kRelaxed);
    c.datagramsDropped = m_dropped.load(kRelaxed);
    c.datagramsLost = m_lost.load(kRelaxed);
    c.datagrams = true;
    return c;
}

} // namespace edgesse::link
