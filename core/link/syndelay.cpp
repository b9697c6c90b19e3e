#include "core/link/syndelay.h"

#include "core/link/synqueuerule.h"

#include <cerrno>
#include <cstring>
#include <mutex>

#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace edgesse::link {

namespace {

// Room for a burst of connects (thousands of browsers at once) in the kernel's queue and in
// the netlink socket's buffer; beyond it the queue fails open (the SYN passes at once).
constexpr std::uint32_t kQueueMaxLength = 16384;
constexpr int kReceiveBufferBytes = 8 * 1024 * 1024;
// After a verdict the kernel did not take.
constexpr auto kVerdictRetry = std::chrono::microseconds(200);

std::once_flag g_staleRemoved;

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

} // namespace

SynDelay::SynDelay(std::chrono::microseconds roundTrip) : m_hold(roundTrip)
{}

std::unique_ptr<SynDelay> SynDelay::open(const QHostAddress &address, quint16 port, std::chrono::microseconds roundTrip, QString *why)
{
    if (::geteuid() != 0) {
        *why = QStringLiteral("not running as root, so the link cannot hold SYNs (NFQUEUE)");
        return nullptr;
    }
    std::call_once(g_staleRemoved, [] { SynQueueRule::removeStale(); });
    std::unique_ptr<SynDelay> delay(new SynDelay(roundTrip));
    if (!delay->bind(port, why))
        return nullptr;
    // Reading the queue before the rule sends it anything, so no SYN waits on nobody.
    delay->m_thread = std::thread([raw = delay.get()] { raw->serve(); });
    delay->m_rule = SynQueueRule::install(address, port, delay->m_queueNumber, why);
    if (!delay->m_rule)
        return nullptr;
    return delay;
}

bool SynDelay::bind(quint16 port, QString *why)
{
    m_stopFd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    m_handle = ::nfq_open();
    if (m_stopFd < 0 || !m_handle) {
        *why = QStringLiteral("NFQUEUE is unavailable (%1)").arg(errnoText(errno));
        return false;
    }
    // The queue number follows the port (unique among listeners); a few others if it is taken.
    for (int attempt = 0; attempt < 8 && !m_queue; ++attempt) {
        m_queueNumber = static_cast<quint16>(port + attempt * 7919);
        m_queue = ::nfq_create_queue(m_handle, m_queueNumber, &SynDelay::onPacket, this);
    }
    if (!m_queue) {
        *why = QStringLiteral("no NFQUEUE queue could be bound (%1)").arg(errnoText(errno));
        return false;
    }
    if (::nfq_set_mode(m_queue, NFQNL_COPY_META, 0) < 0) {
        *why = QStringLiteral("NFQUEUE refused metadata-only copies");
        return false;
    }
    // Without fail-open a full queue would drop SYNs, and each would cost the client's 1 s
    // SYN retransmission: better not to hold SYNs at all than that.
    if (::nfq_set_queue_maxlen(m_queue, kQueueMaxLength) < 0
        || ::nfq_set_queue_flags(m_queue, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0) {
        *why = QStringLiteral("NFQUEUE refused the queue length or fail-open flag (%1)").arg(errnoText(errno));
        return false;
    }
    m_fd = ::nfq_fd(m_handle);
    const int one = 1;
    if (::nfnl_rcvbufsiz(::nfq_nfnlh(m_handle), kReceiveBufferBytes) < static_cast<unsigned>(kReceiveBufferBytes)
        || ::setsockopt(m_fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one) != 0) {
        *why = QStringLiteral("the NFQUEUE socket refused its buffer size (%1)").arg(errnoText(errno));
        return false;
    }
    return true;
}

SynDelay::~SynDelay()
{
    m_rule.reset();
    if (m_thread.joinable()) {
        const std::uint64_t one = 1;
        [[maybe_unused]] const ssize_t written = ::write(m_stopFd, &one, sizeof one);
        m_thread.join();
    }
    if (m_queue) {
        // Unbinding drops whatever the queue still holds: every SYN goes first.
        for (int attempt = 0; attempt < 50 && m_hold.held() > 0; ++attempt) {
            if (attempt > 0)
                std::this_thread::sleep_for(kVerdictRetry);
            releaseDue(TimePoint::max());
        }
        ::nfq_destroy_queue(m_queue);
    }
    if (m_handle)
        ::nfq_close(m_handle);
    if (m_stopFd >= 0)
        ::close(m_stopFd);
}

void SynDelay::serve()
{
    ::prctl(PR_SET_TIMERSLACK, 1UL); // release times to the microsecond, as the links' own timers
    // The thread wakes only to let SYNs go, a few microseconds each: as root it may take the
    // lowest real-time priority, so a loaded machine does not make connects late.
    const sched_param lowest{::sched_get_priority_min(SCHED_FIFO)};
    ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &lowest);
    pollfd fds[2] = {{m_fd, POLLIN, 0}, {m_stopFd, POLLIN, 0}};
    for (;;) {
        timespec timeout{};
        const timespec *wait = nullptr;
        if (const auto next = m_hold.nextRelease()) {
            const auto left = std::max(Nanos(0), std::chrono::duration_cast<Nanos>(std::max(*next, m_retryAt) - Clock::now()));
            timeout.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
            timeout.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
            wait = &timeout;
        }
        if (::ppoll(fds, 2, wait, nullptr) < 0 && errno != EINTR)
            return;
        if (fds[1].revents != 0)
            return;
        if (fds[0].revents != 0)
            readPackets();
        releaseDue(Clock::now());
    }
}

int SynDelay::onPacket(nfq_q_handle *, nfgenmsg *, nfq_data *data, void *self)
{
    auto *delay = static_cast<SynDelay *>(self);
    const nfqnl_msg_packet_hdr *header = ::nfq_get_msg_packet_hdr(data);
    if (!header)
        return 0;
    delay->m_hold.admit(ntohl(header->packet_id), arrival(data, Clock::now()));
    delay->m_synsHeld.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

TimePoint SynDelay::arrival(nfq_data *data, TimePoint now)
{
    // The kernel's receive stamp (wall clock), when the packet has one: a SYN read late is
    // still held from when it came. Anything not within the last second is not such a stamp.
    timeval stamp{};
    if (::nfq_get_timestamp(data, &stamp) != 0)
        return now;
    const auto wall = std::chrono::system_clock::now().time_since_epoch();
    const auto age = wall - (std::chrono::seconds(stamp.tv_sec) + std::chrono::microseconds(stamp.tv_usec));
    if (age < Nanos(0) || age > std::chrono::seconds(1))
        return now;
    return now - std::chrono::duration_cast<Nanos>(age);
}

void SynDelay::readPackets()
{
    alignas(8) char buffer[8192];
    for (;;) {
        const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        // EAGAIN: all read. ENOBUFS: messages were lost, but with fail-open their packets
        // went on at once; the rest of the queue is still to read.
        if (n < 0 && errno == ENOBUFS)
            continue;
        if (n <= 0)
            return;
        if (::nfq_handle_packet(m_handle, buffer, static_cast<int>(n)) < 0)
            m_failures.fetch_add(1, std::memory_order_relaxed);
    }
}

void SynDelay::releaseDue(TimePoint now)
{
    while (const auto id = m_hold.due(now)) {
        if (::nfq_set_verdict(m_queue, *id, NF_ACCEPT, 0, nullptr) < 0) {
            // Not let go: the kernel still holds the SYN. Try again shortly rather than leave
            // it to the client's 1 s retransmission.
            m_failures.fetch_add(1, std::memory_order_relaxed);
            m_retryAt = Clock::now() + kVerdictRetry;
            return;
        }
        m_hold.take();
    }
}

} // namespace edgesse::link
