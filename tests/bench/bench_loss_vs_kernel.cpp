// Loss recovery of the link model beside real Linux TCP, same round trip, same lost segment.
//
//   bench_loss_vs_kernel [--rtt 0.1,20,100] [--assert]
//
// Two network namespaces joined by TUN devices; this program is the wire between them. It
// holds every packet for half the round trip (the kernel here has no netem) and drops one
// chosen data segment once. Kernel TCP sends from one namespace to the other; the time the
// receiving application gets the dropped bytes, minus the time they would have arrived had
// they not been lost, is the kernel's recovery delay. The same segment timeline (every new
// data segment's send time, as the wire saw it) is fed to the link's Retransmission stage
// with the same segment lost: its release minus the same no-loss arrival is the model's.
//
// Cases: a lone loss (one small event, nothing after it: tail-loss probe / RTO) and a dense
// stream (the 5th segment of a 64 KB write: RACK / fast retransmit). The model should be
// within 10% or 5 ms of the kernel. Needs root (namespaces, TUN); says so and exits 0
// otherwise. --assert: exit 1 when a case is outside the tolerance.

#include "core/link/linksettings.h"
#include "core/link/retransmission.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <unistd.h>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Nanos = std::chrono::nanoseconds;

namespace {

double ms(Nanos d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

bool run(const std::string &command)
{
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

int openTun(const std::string &name)
{
    const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    ifreq request{};
    request.ifr_flags = IFF_TUN | IFF_NO_PI;
    std::snprintf(request.ifr_name, IFNAMSIZ, "%s", name.c_str());
    if (::ioctl(fd, TUNSETIFF, &request) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

struct SentSegment {
    TimePoint at;
    std::uint64_t offset;
    std::uint32_t length;
};

// The wire: both TUN devices, a FIFO each way holding packets for the one-way delay, and
// the drop of one armed data segment from A to B.
class Wire
{
public:
    Wire(int a, int b, Nanos oneWay)
        : m_a(a)
        , m_b(b)
        , m_oneWay(oneWay)
    {
        m_thread = std::thread([this] { loop(); });
    }
    ~Wire()
    {
        m_stop = true;
        m_thread.join();
    }

    // Drops the (skip + 1)-th new data segment from A to B from now on.
    void arm(int skip) { m_skip = skip; }
    void reset()
    {
        std::lock_guard lock(m_mutex);
        m_sent.clear();
        m_dropped = false;
        m_haveIsn = false;
    }
    bool dropped(TimePoint &at, std::uint64_t &offset)
    {
        std::lock_guard lock(m_mutex);
        at = m_dropAt;
        offset = m_dropOffset;
        return m_dropped;
    }
    std::vector<SentSegment> sent()
    {
        std::lock_guard lock(m_mutex);
        return m_sent;
    }

private:
    struct Held {
        TimePoint due;
        std::vector<char> bytes;
    };

    void loop();
    bool forwardFromA(const char *p, std::size_t n, TimePoint now);

    int m_a;
    int m_b;
    Nanos m_oneWay;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_skip{-1};
    std::thread m_thread;
    std::mutex m_mutex;
    std::vector<SentSegment> m_sent;
    bool m_haveIsn = false;
    std::uint32_t m_isn = 0;
    std::uint64_t m_highest = 0;
    bool m_dropped = false;
    TimePoint m_dropAt{};
    std::uint64_t m_dropOffset = 0;
    std::uint32_t m_dropSeq = 0;
    std::deque<Held> m_toA;
    std::deque<Held> m_toB;
};

// False: drop this packet.
bool Wire::forwardFromA(const char *p, std::size_t n, TimePoint now)
{
    if (n < 20 || (p[0] >> 4) != 4 || p[9] != IPPROTO_TCP)
        return true;
    const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    if (n < ihl + 20)
        return true;
    const auto *tcp = reinterpret_cast<const unsigned char *>(p + ihl);
    std::uint32_t seq = 0;
    std::memcpy(&seq, tcp + 4, 4);
    seq = ntohl(seq);
    const std::size_t doff = static_cast<std::size_t>(tcp[12] >> 4) * 4;
    const std::size_t payload = n - ihl - doff;
    std::lock_guard lock(m_mutex);
    if (tcp[13] & 0x02) { // SYN
        m_isn = seq;
        m_haveIsn = true;
        m_highest = 0;
        return true;
    }
    if (payload == 0 || !m_haveIsn)
        return true;
    const std::uint64_t offset = static_cast<std::uint32_t>(seq - m_isn - 1);
    if (offset + payload <= m_highest)
        return true; // a retransmission
    m_highest = offset + payload;
    m_sent.push_back({now, offset, static_cast<std::uint32_t>(payload)});
    const int skip = m_skip.load();
    if (skip < 0)
        return true;
    if (skip > 0) {
        m_skip = skip - 1;
        return true;
    }
    m_skip = -1;
    m_dropped = true;
    m_dropAt = now;
    m_dropOffset = offset;
    m_dropSeq = seq;
    return false;
}

void Wire::loop()
{
    ::prctl(PR_SET_TIMERSLACK, 1UL);
    char buffer[65536];
    while (!m_stop) {
        TimePoint next = Clock::now() + 5ms;
        for (auto *q : {&m_toA, &m_toB})
            if (!q->empty())
                next = std::min(next, q->front().due);
        const Nanos wait = std::max(Nanos{0}, next - Clock::now());
        const timespec timeout{static_cast<time_t>(wait.count() / 1'000'000'000), static_cast<long>(wait.count() % 1'000'000'000)};
        pollfd fds[2] = {{m_a, POLLIN, 0}, {m_b, POLLIN, 0}};
        ::ppoll(fds, 2, &timeout, nullptr);
        const TimePoint now = Clock::now();
        for (int i = 0; i < 2; ++i) {
            if (!(fds[i].revents & POLLIN))
                continue;
            for (;;) {
                const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
                if (n <= 0)
                    break;
                const auto size = static_cast<std::size_t>(n);
                if (i == 0 && !forwardFromA(buffer, size, now))
                    continue;
                (i == 0 ? m_toB : m_toA).push_back({now + m_oneWay, std::vector<char>(buffer, buffer + size)});
            }
        }
        const TimePoint after = Clock::now();
        for (auto [q, fd] : {std::pair{&m_toA, m_a}, std::pair{&m_toB, m_b}}) {
            while (!q->empty() && q->front().due <= after) {
                [[maybe_unused]] const ssize_t w = ::write(fd, q->front().bytes.data(), q->front().bytes.size());
                q->pop_front();
            }
        }
    }
}

struct Namespaces {
    std::string a;
    std::string b;
    int tunA = -1;
    int tunB = -1;
    int fdA = -1;
    int fdB = -1;
    int fdRoot = -1;

    bool setUp()
    {
        const std::string id = std::to_string(::getpid());
        a = "esse-a" + id;
        b = "esse-b" + id;
        const std::string devA = "esa" + id;
        const std::string devB = "esb" + id;
        if (!run("ip netns add " + a) || !run("ip netns add " + b))
            return false;
        tunA = openTun(devA);
        tunB = openTun(devB);
        if (tunA < 0 || tunB < 0)
            return false;
        const bool ok = run("ip link set " + devA + " netns " + a) && run("ip link set " + devB + " netns " + b)
            && run("ip -n " + a + " addr add 10.77.0.1 peer 10.77.0.2 dev " + devA)
            && run("ip -n " + b + " addr add 10.77.0.2 peer 10.77.0.1 dev " + devB)
            && run("ip -n " + a + " link set " + devA + " up") && run("ip -n " + b + " link set " + devB + " up");
        fdA = ::open(("/var/run/netns/" + a).c_str(), O_RDONLY | O_CLOEXEC);
        fdB = ::open(("/var/run/netns/" + b).c_str(), O_RDONLY | O_CLOEXEC);
        fdRoot = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        return ok && fdA >= 0 && fdB >= 0 && fdRoot >= 0;
    }
    ~Namespaces()
    {
        for (int fd : {tunA, tunB, fdA, fdB, fdRoot})
            if (fd >= 0)
                ::close(fd);
        if (!a.empty())
            run("ip netns del " + a);
        if (!b.empty())
            run("ip netns del " + b);
    }
};

// The receiving application: when each byte arrived.
class Receiver
{
public:
    explicit Receiver(int fd)
        : m_fd(fd)
    {
        m_thread = std::thread([this] {
            char buffer[65536];
            for (;;) {
                const ssize_t n = ::recv(m_fd, buffer, sizeof buffer, 0);
                if (n <= 0)
                    return;
                std::lock_guard lock(m_mutex);
                m_total += static_cast<std::uint64_t>(n);
                m_arrivals.push_back({Clock::now(), m_total});
                m_arrived.notify_all();
            }
        });
    }
    ~Receiver()
    {
        ::shutdown(m_fd, SHUT_RDWR);
        m_thread.join();
        ::close(m_fd);
    }
    // Waits until `bytes` have arrived in all, or `timeout` has passed; says which.
    bool waitForTotal(std::uint64_t bytes, Nanos timeout)
    {
        std::unique_lock lock(m_mutex);
        return m_arrived.wait_for(lock, timeout, [&] { return m_total >= bytes; });
    }
    bool arrivalOf(std::uint64_t offset, TimePoint &at)
    {
        std::lock_guard lock(m_mutex);
        for (const auto &[when, total] : m_arrivals)
            if (total > offset) {
                at = when;
                return true;
            }
        return false;
    }

private:
    int m_fd;
    std::thread m_thread;
    std::mutex m_mutex;
    std::condition_variable m_arrived;
    std::uint64_t m_total = 0;
    std::vector<std::pair<TimePoint, std::uint64_t>> m_arrivals;
};

struct Result {
    bool ok = false;
    double kernelMs = 0;
    double modelMs = 0;
};

double modelDelay(const std::vector<SentSegment> &sent, std::uint64_t dropOffset, Nanos oneWay)
{
    edgesse::link::LinkSettings settings;
    settings.latency = std::chrono::duration_cast<std::chrono::microseconds>(oneWay);
    settings.lossRecovery = edgesse::link::LossRecovery::Linux;
    edgesse::link::Retransmission model(settings);
    TimePoint release{};
    TimePoint departs{};
    for (const SentSegment &s : sent) {
        const bool lost = s.offset == dropOffset;
        const TimePoint r = model.onSegment(s.offset, s.at, oneWay, lost ? 1 : 0, [&](std::uint64_t offset, TimePoint at) {
            if (offset == dropOffset)
                release = at;
        });
        if (lost) {
            release = r;
            departs = s.at;
        }
    }
    return ms(release - (departs + oneWay));
}

Result runCase(Namespaces &ns, Wire &wire, bool dense, Nanos oneWay)
{
    Result result;
    // Listener in B, client in A; the sockets stay in their namespaces once made.
    ::setns(ns.fdB, CLONE_NEWNET);
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = inet_addr("10.77.0.2");
    const int one = 1;
    ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address);
    ::listen(listener, 4);
    socklen_t length = sizeof address;
    ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length);
    ::setns(ns.fdA, CLONE_NEWNET);
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ::setns(ns.fdRoot, CLONE_NEWNET);
    ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    wire.reset();
    if (::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
        ::close(client);
        ::close(listener);
        return result;
    }
    const int accepted = ::accept(listener, nullptr, nullptr);
    ::close(listener);
    {
        Receiver receiver(accepted);
        const std::string event(100, 'e');
        for (int i = 0; i < 5; ++i) { // warm the RTT estimate, as a stream's first events do
            ::send(client, event.data(), event.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(50ms + 4 * oneWay);
        }
        std::this_thread::sleep_for(200ms);
        const std::string burst(65536, 'd');
        wire.arm(dense ? 4 : 0);
        if (dense)
            ::send(client, burst.data(), burst.size(), MSG_NOSIGNAL);
        else
            ::send(client, event.data(), event.size(), MSG_NOSIGNAL);
        const std::uint64_t total = 5 * event.size() + (dense ? burst.size() : event.size());
        receiver.waitForTotal(total, 3s + 4 * oneWay); // the lost segment's recovery, at most a few RTOs
        TimePoint droppedAt;
        std::uint64_t dropOffset = 0;
        TimePoint arrived;
        if (wire.dropped(droppedAt, dropOffset) && receiver.arrivalOf(dropOffset, arrived)) {
            result.ok = true;
            result.kernelMs = ms(arrived - (droppedAt + oneWay));
            result.modelMs = modelDelay(wire.sent(), dropOffset, oneWay);
        }
    }
    ::close(client);
    return result;
}

std::vector<double> parseList(const char *text)
{
    std::vector<double> values;
    for (const char *p = text; *p;) {
        char *end = nullptr;
        values.push_back(std::strtod(p, &end));
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p)
            break;
    }
    return values;
}

} // namespace

int main(int argc, char **argv)
{
    std::vector<double> rtts{0.1, 20, 100};
    bool assertMode = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--rtt") == 0 && i + 1 < argc)
            rtts = parseList(argv[++i]);
        else if (std::strcmp(argv[i], "--assert") == 0)
            assertMode = true;
    }
    if (::geteuid() != 0) {
        std::printf("bench_loss_vs_kernel: skipped: needs root (network namespaces and TUN devices); run it with sudo\n");
        return 0;
    }
    Namespaces ns;
    if (!ns.setUp()) {
        std::printf("bench_loss_vs_kernel: skipped: cannot set up network namespaces and TUN devices (ip netns, /dev/net/tun)\n");
        return 0;
    }
    std::printf("%-9s %-6s %12s %12s %10s  %s\n", "RTT ms", "case", "kernel ms", "model ms", "diff ms", "within 10% or 5 ms");
    bool allWithin = true;
    for (const double rtt : rtts) {
        const Nanos oneWay{static_cast<std::int64_t>(rtt * 1e6 / 2)};
        Wire wire(ns.tunA, ns.tunB, oneWay);
        for (const bool dense : {false, true}) {
            const Result r = runCase(ns, wire, dense, oneWay);
            const char *name = dense ? "dense" : "lone";
            if (!r.ok) {
                std::printf("%-9g %-6s   no measurement (the drop or the arrival was not seen)\n", rtt, name);
                allWithin = false;
                continue;
            }
            const double diff = r.modelMs - r.kernelMs;
            const bool within = std::abs(diff) <= std::max(5.0, 0.1 * r.kernelMs);
            allWithin = allWithin && within;
            std::printf("%-9g %-6s %12.2f %12.2f %+10.2f  %s\n", rtt, name, r.kernelMs, r.modelMs, diff, within ? "yes" : "NO");
        }
    }
    return assertMode && !allWithin ? 1 : 0;
}
