// How closely a LinkProxy keeps to its configured timing, and what it costs.
//
//   bench_link [--connections 100,1000,4000] [--seconds 5] [--parts 1,2,3] [--rounds 7] [--quick] [--stock-dispatcher]
//
// 1. Delay accuracy: 100 B messages, 10 per second per connection, through a 20 ms link;
//    measured one-way delay minus 20 ms (p50, p99, max) at each connection count. A
//    message's delay runs from just before the client's send() to the kernel's receive
//    timestamp on the target's socket (SO_TIMESTAMPNS): the moment the link delivered it,
//    however late the harness then reads it. The same measurement without a link gives the
//    harness's floor. Clients send in passes at most 0.5 ms apart, each message stamped as
//    it leaves, so that the load generator does not wake 40,000 times a second.
// 2. Bulk throughput of one stream: plain loopback vs a zero-latency link, same run, in
//    alternating rounds; the ratio is the median of the rounds' ratios.
// 3. Bandwidth pacing accuracy from 1 Mbit/s to 1 Gbit/s.
//
// The proxies run on one data-plane thread; the clients and the target run on another
// thread with their own epoll loop, so the figures measure the link, not the load.

#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "core/net/fdlimit.h"
#include "core/net/netthreads.h"
#include "core/net/stampedreceive.h"
#include "tests/support/loopback.h"
#include "tests/support/percentile.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using edgesse::link::LinkProxy;
using edgesse::link::LinkSettings;
using edgesse::net::DeadlineQueue;
using Clock = std::chrono::steady_clock;
using edgesse::testing::percentileOfSorted;

namespace {

// One data-plane thread: by default a NetThreads worker (epoll dispatcher, 1 ns timer slack),
// or, to compare, a plain QThread with Qt's stock dispatcher.
class DataPlaneThread
{
public:
    explicit DataPlaneThread(bool stock)
    {
        if (!stock) {
            m_threads = std::make_unique<edgesse::net::NetThreads>(1);
            return;
        }
        m_thread = std::make_unique<QThread>();
        m_thread->start();
        m_context = new QObject;
        m_context->moveToThread(m_thread.get());
        run([this] {
            ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
            m_queue = std::make_unique<DeadlineQueue>();
        });
    }
    ~DataPlaneThread()
    {
        if (m_threads) {
            m_threads->stop();
            return;
        }
        run([this] { m_queue.reset(); });
        m_context->deleteLater();
        m_thread->quit();
        m_thread->wait();
    }
    void run(const std::function<void()> &work)
    {
        if (m_threads)
            m_threads->runOn(0, work);
        else
            QMetaObject::invokeMethod(m_context, work, Qt::BlockingQueuedConnection);
    }
    DeadlineQueue &queue() { return m_threads ? *m_threads->deadlines(0) : *m_queue; }
    QString dispatcherName()
    {
        QString name;
        run([&] { name = QString::fromLatin1(QAbstractEventDispatcher::instance()->metaObject()->className()); });
        return name;
    }

private:
    std::unique_ptr<edgesse::net::NetThreads> m_threads;
    std::unique_ptr<QThread> m_thread;
    QObject *m_context = nullptr;
    std::unique_ptr<DeadlineQueue> m_queue;
};

// A proxy created, listening and destroyed on the data-plane thread.
class Link
{
public:
    Link(DataPlaneThread &plane, const LinkSettings &settings, quint16 targetPort)
        : m_plane(plane)
    {
        m_plane.run([&] {
            m_proxy = std::make_unique<LinkProxy>(settings, QHostAddress::LocalHost, targetPort, m_plane.queue());
            if (!m_proxy->listen())
                std::fprintf(stderr, "link: %s\n", qPrintable(m_proxy->errorString()));
        });
    }
    ~Link()
    {
        m_plane.run([&] { m_proxy.reset(); });
    }
    quint16 port() const { return m_proxy->port(); }
    LinkProxy &proxy() { return *m_proxy; }

private:
    DataPlaneThread &m_plane;
    std::unique_ptr<LinkProxy> m_proxy;
};

// Loopback sockets for the harness; a benchmark without its listener cannot go on.
int listenLoopback(quint16 &port)
{
    const int fd = edgesse::testing::listenLoopback(port);
    if (fd < 0) {
        std::perror("listen");
        std::exit(1);
    }
    return fd;
}

int connectLoopback(quint16 port, bool nonBlocking)
{
    const int fd = edgesse::testing::connectLoopback(port, nonBlocking);
    if (fd < 0)
        std::perror("connect");
    return fd;
}

std::int64_t nowNs()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

// ---- 1. delay accuracy ----------------------------------------------------------------

struct DelayResult {
    int connected = 0;
    std::uint64_t sent = 0;
    std::vector<std::int64_t> errorsNs; // measured - configured one-way delay
    double proxyCpuUsPerMessage = 0;    // the data-plane thread's CPU time while measuring
    double loadCpuUsPerMessage = 0;     // the clients' and target's thread
};

double threadCpuUs(clockid_t clock)
{
    timespec t{};
    ::clock_gettime(clock, &t);
    return double(t.tv_sec) * 1e6 + double(t.tv_nsec) / 1e3;
}

constexpr std::size_t kMessageBytes = 100;

constexpr auto kSendTick = std::chrono::microseconds(500);

// Through a link of `latency`, or (throughLink false) straight to the target: the harness's
// own floor, measured the same way.
DelayResult measureDelays(DataPlaneThread &plane, int connections, std::chrono::milliseconds latency, double seconds,
                          bool throughLink = true)
{
    quint16 sinkPort = 0;
    const int listener = listenLoopback(sinkPort);
    LinkSettings settings;
    settings.latency = latency;
    std::optional<Link> link;
    if (throughLink)
        link.emplace(plane, settings, sinkPort);
    else
        latency = 0ms;
    const quint16 linkPort = link ? link->port() : sinkPort;
    clockid_t proxyClock{};
    plane.run([&] { ::pthread_getcpuclockid(::pthread_self(), &proxyClock); });

    DelayResult result;
    std::thread load([&] {
        ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = ~std::uint64_t{0};
        ::fcntl(listener, F_SETFL, O_NONBLOCK);
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev);

        std::vector<int> clients;
        for (int i = 0; i < connections; ++i)
            clients.push_back(connectLoopback(linkPort, true));
        struct Sink {
            int fd;
            std::size_t have = 0;
            char partial[kMessageBytes];
        };
        std::vector<Sink> sinks;
        sinks.reserve(std::size_t(connections));

        const auto period = std::chrono::nanoseconds(100ms);
        const std::int64_t latencyNs = std::chrono::nanoseconds(latency).count();
        Clock::time_point base{};
        Clock::time_point measureFrom{};
        Clock::time_point stopSending{};
        Clock::time_point stopAt = Clock::now() + 30s; // connect phase bound
        std::size_t nextIndex = 0;
        std::int64_t cycle = 0;
        Clock::time_point nextSend = Clock::time_point::max();
        char message[kMessageBytes];
        std::memset(message, 'm', sizeof message);
        std::vector<char> buffer(64 * 1024);
        epoll_event events[256];
        double proxyCpuStart = -1;
        double loadCpuStart = 0;
        double proxyCpuEnd = -1;
        double loadCpuEnd = 0;

        for (;;) {
            Clock::time_point now = Clock::now();
            if (proxyCpuStart < 0 && base != Clock::time_point{} && now >= measureFrom) {
                proxyCpuStart = threadCpuUs(proxyClock);
                loadCpuStart = threadCpuUs(CLOCK_THREAD_CPUTIME_ID);
            }
            if (proxyCpuEnd < 0 && base != Clock::time_point{} && now >= stopSending) {
                proxyCpuEnd = threadCpuUs(proxyClock);
                loadCpuEnd = threadCpuUs(CLOCK_THREAD_CPUTIME_ID);
            }
            if (base == Clock::time_point{} && int(sinks.size()) == connections) {
                base = now + 100ms;
                measureFrom = base + 500ms;
                stopSending = measureFrom + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
                stopAt = stopSending + 2 * latency + 500ms;
                nextSend = base;
            }
            while (nextSend <= now && nextSend < stopSending) {
                const std::int64_t stamp = nowNs();
                std::memcpy(message, &stamp, sizeof stamp);
                if (::send(clients[nextIndex], message, sizeof message, MSG_NOSIGNAL) == ssize_t(sizeof message)
                    && Clock::time_point(std::chrono::nanoseconds(stamp)) >= measureFrom)
                    ++result.sent;
                if (++nextIndex == clients.size()) {
                    nextIndex = 0;
                    ++cycle;
                }
                nextSend = base + cycle * period + period * std::int64_t(nextIndex) / connections;
                now = Clock::now();
            }
            if (now >= stopAt)
                break;
            // Sleep at least kSendTick: the generator sends what is due in one pass (each
            // message stamped as it leaves) instead of waking for every message, which at
            // 40,000 messages/s would spend a core on timer wake-ups the link needs.
            const Clock::time_point wake = std::min(std::max(nextSend, now + kSendTick), stopAt);
            const auto waitNs = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now).count());
            const timespec timeout{static_cast<time_t>(waitNs / 1'000'000'000), static_cast<long>(waitNs % 1'000'000'000)};
            const int n = ::epoll_pwait2(epfd, events, 256, &timeout, nullptr);
            for (int e = 0; e < n; ++e) {
                if (events[e].data.u64 == ~std::uint64_t{0}) {
                    for (;;) {
                        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                        if (fd < 0)
                            break;
                        edgesse::net::enableReceiveTimestamps(fd);
                        sinks.push_back({fd, 0, {}});
                        epoll_event sinkEvent{};
                        sinkEvent.events = EPOLLIN;
                        sinkEvent.data.u64 = sinks.size() - 1;
                        ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &sinkEvent);
                    }
                    continue;
                }
                Sink &sink = sinks[events[e].data.u64];
                // The kernel's receive time: when the link delivered, whenever this thread reads.
                Clock::time_point arrival;
                const ssize_t got = edgesse::net::receiveStamped(sink.fd, buffer.data(), buffer.size(), arrival);
                if (got <= 0)
                    continue;
                const std::int64_t arrived = std::chrono::duration_cast<std::chrono::nanoseconds>(arrival.time_since_epoch()).count();
                for (ssize_t at = 0; at < got;) {
                    const std::size_t take = std::min<std::size_t>(kMessageBytes - sink.have, std::size_t(got - at));
                    std::memcpy(sink.partial + sink.have, buffer.data() + at, take);
                    sink.have += take;
                    at += ssize_t(take);
                    if (sink.have == kMessageBytes) {
                        sink.have = 0;
                        std::int64_t stamp = 0;
                        std::memcpy(&stamp, sink.partial, sizeof stamp);
                        if (Clock::time_point(std::chrono::nanoseconds(stamp)) >= measureFrom)
                            result.errorsNs.push_back(arrived - stamp - latencyNs);
                    }
                }
            }
        }
        result.connected = int(sinks.size());
        if (result.sent > 0 && proxyCpuStart >= 0 && proxyCpuEnd >= 0) {
            result.proxyCpuUsPerMessage = (proxyCpuEnd - proxyCpuStart) / double(result.sent);
            result.loadCpuUsPerMessage = (loadCpuEnd - loadCpuStart) / double(result.sent);
        }
        for (int fd : clients)
            ::close(fd);
        for (const Sink &sink : sinks)
            ::close(sink.fd);
        ::close(epfd);
    });
    load.join();
    ::close(listener);
    return result;
}

// ---- 2. and 3. one bulk stream ----------------------------------------------------------

struct StreamResult {
    double bytesPerSecond = 0;      // whole transfer, first byte to last
    double pacedBitsPerSecond = 0;  // after the first read (a token bucket's initial burst)
    double senderCpuUs = 0;         // each thread's CPU time over the transfer (kernel work included)
    double receiverCpuUs = 0;
};

// Sends `bytes` over a connection to `port` (a link or the receiver itself) and measures
// the rate at the receiver.
StreamResult stream(quint16 connectPort, int receiverListener, std::uint64_t bytes)
{
    StreamResult result;
    std::thread receiver([&] {
        const int fd = ::accept(receiverListener, nullptr, nullptr);
        std::vector<char> buffer(256 * 1024);
        std::uint64_t total = 0;
        std::uint64_t firstRead = 0;
        Clock::time_point first{};
        Clock::time_point last{};
        while (total < bytes) {
            const ssize_t n = ::read(fd, buffer.data(), buffer.size());
            if (n <= 0)
                break;
            last = Clock::now();
            if (total == 0) {
                first = last;
                firstRead = std::uint64_t(n);
            }
            total += std::uint64_t(n);
        }
        result.receiverCpuUs = threadCpuUs(CLOCK_THREAD_CPUTIME_ID);
        const double seconds = std::chrono::duration<double>(last - first).count();
        if (seconds > 0) {
            result.bytesPerSecond = double(total) / seconds;
            result.pacedBitsPerSecond = double(total - firstRead) * 8.0 / seconds;
        }
        ::close(fd);
    });
    std::thread sender([&] {
        const int fd = connectLoopback(connectPort, false);
        std::vector<char> buffer(256 * 1024, 'b');
        std::uint64_t sent = 0;
        while (sent < bytes && fd >= 0) {
            const ssize_t n = ::write(fd, buffer.data(), std::min<std::uint64_t>(buffer.size(), bytes - sent));
            if (n <= 0)
                break;
            sent += std::uint64_t(n);
        }
        result.senderCpuUs = threadCpuUs(CLOCK_THREAD_CPUTIME_ID);
        ::shutdown(fd, SHUT_WR);
        char drain[64];
        while (::read(fd, drain, sizeof drain) > 0) {
        }
        ::close(fd);
    });
    receiver.join();
    sender.join();
    return result;
}

// The floor under any relay on this machine: one thread moving one connection's bytes with
// blocking splice (socket -> pipe -> socket) and nothing else. The bytes cross loopback twice,
// as they do through the link, so the link is measured against what relaying itself costs.
class BareRelay
{
public:
    explicit BareRelay(quint16 upstream)
        : m_upstream(upstream)
        , m_listener(listenLoopback(m_port))
    {
    }
    ~BareRelay() { ::close(m_listener); }
    BareRelay(const BareRelay &) = delete;
    BareRelay &operator=(const BareRelay &) = delete;
    quint16 port() const { return m_port; }

    // Relays the next connection to its end on a thread of its own; `cpuUs` is that thread's CPU.
    std::thread relayOne(double &cpuUs)
    {
        return std::thread([this, &cpuUs] {
            const int in = ::accept(m_listener, nullptr, nullptr);
            const int out = connectLoopback(m_upstream, false);
            int pipeFds[2] = {-1, -1};
            if (in >= 0 && out >= 0 && ::pipe(pipeFds) == 0) {
                ::fcntl(pipeFds[1], F_SETPIPE_SZ, 1 << 20);
                forward(in, pipeFds, out);
            } else {
                std::perror("bare relay");
            }
            cpuUs = threadCpuUs(CLOCK_THREAD_CPUTIME_ID);
            ::shutdown(out, SHUT_WR);
            for (const int fd : {pipeFds[0], pipeFds[1], out, in})
                if (fd >= 0)
                    ::close(fd);
        });
    }

private:
    static void forward(int in, const int (&pipeFds)[2], int out)
    {
        for (;;) {
            ssize_t left = ::splice(in, nullptr, pipeFds[1], nullptr, 1 << 20, SPLICE_F_MOVE);
            if (left <= 0)
                return;
            while (left > 0) {
                const ssize_t moved = ::splice(pipeFds[0], nullptr, out, nullptr, std::size_t(left), SPLICE_F_MOVE);
                if (moved <= 0)
                    return;
                left -= moved;
            }
        }
    }

    quint16 m_upstream;
    quint16 m_port = 0;
    int m_listener;
};

std::vector<int> parseList(const QString &text)
{
    std::vector<int> values;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        values.push_back(part.trimmed().toInt());
    return values;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    std::vector<int> counts{100, 1000, 4000};
    double seconds = 5;
    bool quick = false;
    bool stock = false;
    int rounds = 7;
    std::vector<int> parts{1, 2, 3};
    const QStringList args = QCoreApplication::arguments();
    for (qsizetype i = 1; i < args.size(); ++i) {
        if (args[i] == QLatin1String("--connections") && i + 1 < args.size())
            counts = parseList(args[++i]);
        else if (args[i] == QLatin1String("--seconds") && i + 1 < args.size())
            seconds = args[++i].toDouble();
        else if (args[i] == QLatin1String("--parts") && i + 1 < args.size())
            parts = parseList(args[++i]);
        else if (args[i] == QLatin1String("--rounds") && i + 1 < args.size())
            rounds = std::max(1, args[++i].toInt());
        else if (args[i] == QLatin1String("--stock-dispatcher"))
            stock = true;
        else if (args[i] == QLatin1String("--quick"))
            quick = true;
        else {
            std::fprintf(stderr, "usage: bench_link [--connections 100,1000,4000] [--seconds 5] [--parts 1,2,3] [--rounds 7] [--quick] [--stock-dispatcher]\n");
            return 2;
        }
    }
    if (quick) {
        counts = {100, 1000};
        seconds = 2;
    }

    edgesse::net::raiseFdLimitToHard();
    const int maxCount = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
    if (const QString problem = edgesse::net::checkDescriptorBudget(std::uint64_t(maxCount) * 4 + 64); !problem.isEmpty()) {
        std::fprintf(stderr, "bench_link: %s\n", qPrintable(problem));
        return 1;
    }

    DataPlaneThread plane(stock);
    std::printf("EdgeSSE link benchmark — data-plane dispatcher: %s, %u cores\n\n", qPrintable(plane.dispatcherName()),
                std::thread::hardware_concurrency());

    const auto wanted = [&](int part) { return std::find(parts.begin(), parts.end(), part) != parts.end(); };
    if (wanted(1)) {
    std::printf("1. One-way delay error (measured - configured) through a 20 ms link, %zu B messages, 10/s per connection;\n"
                "   each count first without a link (plain loopback, configured 0): the harness's own floor\n",
                kMessageBytes);
    std::printf("%12s %10s %10s %10s %10s %10s %12s %14s\n", "connections", "messages", "lost", "p50 us", "p99 us", "max us", "p99 target",
                "link CPU/msg");
    for (int count : counts) {
        DelayResult floor = measureDelays(plane, count, 20ms, seconds, false);
        std::sort(floor.errorsNs.begin(), floor.errorsNs.end());
        std::printf("%12d %10zu %10lld %10.0f %10.0f %10.0f %12s %14s\n", count, floor.errorsNs.size(),
                    static_cast<long long>(floor.sent) - static_cast<long long>(floor.errorsNs.size()),
                    percentileOfSorted(floor.errorsNs, 0.5) / 1e3, percentileOfSorted(floor.errorsNs, 0.99) / 1e3,
                    floor.errorsNs.empty() ? 0.0 : double(floor.errorsNs.back()) / 1e3, "(no link)", "");
        DelayResult r = measureDelays(plane, count, 20ms, seconds);
        std::sort(r.errorsNs.begin(), r.errorsNs.end());
        const char *target = count <= 1000 ? "<= 250" : "<= 1000";
        std::printf("%12d %10zu %10lld %10.0f %10.0f %10.0f %12s %11.1f us%s\n", count, r.errorsNs.size(),
                    static_cast<long long>(r.sent) - static_cast<long long>(r.errorsNs.size()), percentileOfSorted(r.errorsNs, 0.5) / 1e3,
                    percentileOfSorted(r.errorsNs, 0.99) / 1e3, r.errorsNs.empty() ? 0.0 : double(r.errorsNs.back()) / 1e3, target,
                    r.proxyCpuUsPerMessage,
                    r.connected == count ? "" : "  (not all connected)");
        std::fflush(stdout);
    }

    }
    if (wanted(2)) {
    std::printf("\n2. One bulk stream: plain loopback, a zero-latency link and a bare splice relay, %d alternating rounds;\n"
                "   each ratio is the median of the rounds, each round measured back to back under the same load\n",
                rounds);
    {
        const std::uint64_t bulkBytes = quick ? (256ull << 20) : (1ull << 30);
        quint16 receiverPort = 0;
        const int receiver = listenLoopback(receiverPort);
        Link link(plane, LinkSettings{}, receiverPort);
        clockid_t proxyClock{};
        plane.run([&] { ::pthread_getcpuclockid(::pthread_self(), &proxyClock); });
        std::vector<double> plain;
        std::vector<double> linked;
        std::vector<double> ratios;
        std::vector<double> floorRatios; // the bare relay / loopback, and the link / the bare relay
        std::vector<double> againstFloor;
        std::vector<double> floorCpu;
        BareRelay bare(receiverPort);
        std::vector<double> plainCpu; // CPU µs per MB: sender + receiver (+ link)
        std::vector<double> linkedCpu;
        std::vector<double> linkCpu;
        const double megabytes = double(bulkBytes) / 1e6;
        for (int round = 0; round < rounds; ++round) {
            const StreamResult p = stream(receiverPort, receiver, bulkBytes);
            const double proxyBefore = threadCpuUs(proxyClock);
            const StreamResult l = stream(link.port(), receiver, bulkBytes);
            const double proxyUs = threadCpuUs(proxyClock) - proxyBefore;
            plain.push_back(p.bytesPerSecond);
            linked.push_back(l.bytesPerSecond);
            ratios.push_back(plain.back() > 0 ? linked.back() / plain.back() : 0.0);
            plainCpu.push_back((p.senderCpuUs + p.receiverCpuUs) / megabytes);
            linkedCpu.push_back((l.senderCpuUs + l.receiverCpuUs + proxyUs) / megabytes);
            linkCpu.push_back(proxyUs / megabytes);
            double bareUs = 0;
            std::thread relaying = bare.relayOne(bareUs);
            const StreamResult b = stream(bare.port(), receiver, bulkBytes);
            relaying.join();
            floorRatios.push_back(p.bytesPerSecond > 0 ? b.bytesPerSecond / p.bytesPerSecond : 0.0);
            againstFloor.push_back(b.bytesPerSecond > 0 ? l.bytesPerSecond / b.bytesPerSecond : 0.0);
            floorCpu.push_back((b.senderCpuUs + b.receiverCpuUs + bareUs) / megabytes);
        }
        const auto median = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            return v[v.size() / 2];
        };
        std::sort(ratios.begin(), ratios.end());
        std::printf("%22s %12.0f MB/s (median)\n", "plain loopback", median(plain) / 1e6);
        std::printf("%22s %12.0f MB/s (median)\n", "zero-latency link", median(linked) / 1e6);
        std::printf("%22s %12.2f (rounds %.2f-%.2f; target >= 0.50)\n", "ratio link/loopback", median(ratios), ratios.front(),
                    ratios.back());
        // CPU per byte does not depend on how the machine's load shares the cores out.
        std::printf("%22s %12.0f us/MB loopback (sender + receiver), %.0f us/MB through the link, of which the link's "
                    "thread %.0f (medians)\n",
                    "CPU", median(plainCpu), median(linkedCpu), median(linkCpu));
        // Where even a relay doing nothing but splice stays under half of loopback, that is the
        // machine's floor for relaying, and the link is held to it instead.
        std::printf("%22s %12.2f x loopback (median), %.0f us/MB; the link at %.2f x this floor (median)\n",
                    "bare splice relay", median(floorRatios), median(floorCpu), median(againstFloor));
        ::close(receiver);
    }

    }
    if (wanted(3)) {
    std::printf("\n3. Bandwidth pacing (rate after the token bucket's first burst, about 1.5 s a row)\n");
    std::printf("%14s %14s %10s %12s\n", "configured", "measured", "error", "target");
    for (const std::uint64_t bitsPerSecond : {1'000'000ull, 10'000'000ull, 100'000'000ull, 1'000'000'000ull}) {
        quint16 receiverPort = 0;
        const int receiver = listenLoopback(receiverPort);
        LinkSettings settings;
        settings.bandwidthBitsPerSecond = bitsPerSecond;
        Link link(plane, settings, receiverPort);
        const auto bytes = static_cast<std::uint64_t>(double(bitsPerSecond) / 8.0 * (quick ? 0.75 : 1.5));
        const StreamResult r = stream(link.port(), receiver, bytes);
        const double error = (r.pacedBitsPerSecond / double(bitsPerSecond) - 1.0) * 100.0;
        std::printf("%9.0f Mbps %9.2f Mbps %+9.2f%% %12s\n", double(bitsPerSecond) / 1e6, r.pacedBitsPerSecond / 1e6, error, "+-5%");
        std::fflush(stdout);
        ::close(receiver);
    }
    }
    return 0;
}
