// Time-dilated runs at scale: for 1,000 and 4,000 HTTP/1.1 streams and 20,000 HTTP/2 streams,
// the time scale `auto` chooses (short calibrations, TimeScaleSearch, each printed), the error
// p99 it achieved, modelled seconds per wall second; beside it this machine's floor for the
// same deliveries: one event written to N loopback TCP connections (for HTTP/2, one write of
// 100 real DATA frames, 9-byte header and the event's bytes, to each of its 200 connections),
// each held 20 ms from its kernel receive time by a relay thread and re-sent, received at the
// far end, where the client walks the frame headers and stamps every stream's delivery — raw
// sockets and epoll, no HTTP library, no SSE, no Qt, receipt taken from the kernel's receive
// timestamp, the next event sent once the last has arrived everywhere. Its overhead is wall
// time, so the floor needs scale ceil(p99 / tolerance) for the same error. Then a 200-stream
// run of the 4,000-stream world at scale 1, whose per-stream figures should match.
//   build/release/tests/bench/bench_runs [--quick] [1000|4000|20000]...
//
// --overhead [--quick]: the undilated table — overhead (measured latency minus the path's)
// at 500 to 4,000 HTTP/1.1 and 20,000 HTTP/2 streams beside the floor, set-up and tear-down
// of a 2,000-stream topology, and the refusal of 20,000 HTTP/1.1 streams (80,000 descriptors).
// --dilated N: the 4,000-stream run at scale 1 and at scale N.
// --h2 N [S]: one HTTP/2 fan-out of N browsers x 100 streams at scale 1 (S seconds, 3 unless
// given) beside its floor: the run to profile.

#include "core/scenario/scenario.h"
#include "core/net/fdlimit.h"
#include "core/net/stampedreceive.h"
#include "core/sim/run.h"
#include "core/sim/timescalesearch.h"
#include "tests/support/directvariant.h"
#include "tests/support/loopback.h"
#include "tests/support/percentile.h"

#include <QCoreApplication>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <optional>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

scenario::Variant topology(const char *name, scenario::Protocol protocol, qint64 browsers, int streams,
                           std::chrono::microseconds duration)
{
    scenario::Variant v =
        testing::directVariant(QString::fromLatin1(name), QStringLiteral("clients"), protocol, browsers, streams, 20ms);
    v.publisher.at = QStringLiteral("origin");
    v.publisher.rate = 2; // every event goes to every stream: 8,000 deliveries a second at 4,000 streams
    v.publisher.payloadBytes = 100;
    v.sse.heartbeat = std::nullopt;
    v.sse.maxConcurrentStreams = std::max(100, streams);
    v.warmup = 3s;
    v.duration = duration;
    v.seed = 1;
    return v;
}

// ---- the kernel's floor for a fan-out through one proxy hop --------------------------------

using Clock = std::chrono::steady_clock;

// A connected loopback TCP pair, both ends non-blocking with Nagle off.
bool tcpPair(int listener, quint16 port, int &a, int &b)
{
    a = edgesse::testing::connectLoopback(port);
    if (a < 0)
        return false;
    b = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (b < 0)
        return false;
    const int one = 1;
    for (int fd : {a, b}) {
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::fcntl(fd, F_SETFL, O_NONBLOCK);
    }
    return true;
}

struct Floor {
    bool ok = false;
    double p50 = 0, p99 = 0, max = 0; // ms: a stream's receipt - the event's first write - the relay's delay
    double cpuUsPerDelivery = 0;      // the process's CPU time (both threads) per stream's delivery
};

double processCpuSeconds()
{
    timespec ts{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// A minimal link: each message read from relayIn[i] leaves on relayOut[i] `latency` after
// the kernel received it, until `stop`.
void relayLoop(const std::vector<int> &relayIn, const std::vector<int> &relayOut, std::chrono::milliseconds latency,
               const std::atomic<bool> &stop)
{
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < relayIn.size(); ++i) {
        edgesse::net::enableReceiveTimestamps(relayIn[i]);
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = i;
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, relayIn[i], &ev);
    }
    struct Held {
        Clock::time_point due;
        std::size_t stream;
        std::size_t size;
        char bytes[16384];
    };
    std::deque<Held> held; // arrivals come in time order, so due times do too
    epoll_event ready[256];
    while (!stop.load(std::memory_order_relaxed)) {
        long long waitNs = 50'000'000;
        if (!held.empty())
            waitNs = std::clamp<long long>(std::chrono::duration_cast<std::chrono::nanoseconds>(held.front().due - Clock::now()).count(),
                                           0, waitNs);
        const timespec timeout{0, static_cast<long>(waitNs)};
        const int n = ::epoll_pwait2(epfd, ready, 256, &timeout, nullptr);
        for (int e = 0; e < n; ++e) {
            Held h{};
            h.stream = ready[e].data.u64;
            Clock::time_point arrival;
            const ssize_t got = edgesse::net::receiveStamped(relayIn[h.stream], h.bytes, sizeof h.bytes, arrival);
            if (got <= 0)
                continue;
            h.size = std::size_t(got);
            h.due = arrival + latency;
            held.push_back(h);
        }
        const Clock::time_point now = Clock::now();
        while (!held.empty() && held.front().due <= now) {
            [[maybe_unused]] const ssize_t sent = ::send(relayOut[held.front().stream], held.front().bytes, held.front().size, MSG_NOSIGNAL);
            held.pop_front();
        }
    }
    ::close(epfd);
}

// What a client must do to see each stream's delivery: walk the bytes of its connection as
// frames and count each one it completes. HTTP/1.1: a frame is one event of `payload` bytes,
// no header. HTTP/2: a frame is a DATA frame, its 9-byte header giving its payload length.
struct FrameWalker {
    std::size_t headerBytes = 0;
    std::size_t payload = 0;
    unsigned char header[9]{};
    std::size_t headerHave = 0;
    std::size_t payloadLeft = 0;
    bool inPayload = false;

    // The frames `bytes` completed.
    int consume(const char *data, std::size_t size)
    {
        const auto *bytes = reinterpret_cast<const unsigned char *>(data);
        int completed = 0;
        std::size_t at = 0;
        while (at < size) {
            if (!inPayload) {
                const std::size_t take = std::min(headerBytes - headerHave, size - at);
                std::memcpy(header + headerHave, bytes + at, take);
                headerHave += take;
                at += take;
                if (headerHave < headerBytes)
                    break;
                payloadLeft = headerBytes == 0 ? payload
                                               : (std::size_t(header[0]) << 16) | (std::size_t(header[1]) << 8) | header[2];
                headerHave = 0;
                inPayload = true;
            }
            const std::size_t take = std::min(payloadLeft, size - at);
            payloadLeft -= take;
            at += take;
            if (payloadLeft == 0) {
                inPayload = false;
                ++completed;
            }
        }
        return completed;
    }
};

// One write a connection per event: the event itself (HTTP/1.1, `frames` 0), or one HTTP/2
// DATA frame (9-byte header, the event's bytes) for each of its `frames` streams.
std::vector<unsigned char> eventBlock(std::size_t eventBytes, int frames)
{
    if (frames == 0)
        return std::vector<unsigned char>(eventBytes, 'x');
    std::vector<unsigned char> block;
    block.reserve(std::size_t(frames) * (9 + eventBytes));
    for (int f = 0; f < frames; ++f) {
        const std::uint32_t stream = 1 + 2 * std::uint32_t(f);
        const unsigned char header[9] = {static_cast<unsigned char>(eventBytes >> 16),
                                         static_cast<unsigned char>(eventBytes >> 8),
                                         static_cast<unsigned char>(eventBytes),
                                         0 /* DATA */,
                                         0,
                                         static_cast<unsigned char>(stream >> 24),
                                         static_cast<unsigned char>(stream >> 16),
                                         static_cast<unsigned char>(stream >> 8),
                                         static_cast<unsigned char>(stream)};
        block.insert(block.end(), header, header + 9);
        block.insert(block.end(), eventBytes, 'x');
    }
    return block;
}

// `connections` pairs through a relay; per event one write of eventBlock() on each, and a
// delay sampled for every stream's delivery (each frame the client completes).
Floor kernelFloor(int connections, int events, std::chrono::milliseconds latency, std::size_t eventBytes = 128,
                  int frames = 0)
{
    const int streams = connections;
    Floor floor;
    quint16 port = 0;
    const int listener = edgesse::testing::listenLoopback(port);
    if (listener < 0)
        return floor;
    // server[i] -> relayIn[i]; relayOut[i] -> client[i]
    std::vector<int> server(std::size_t(streams), -1), relayIn(std::size_t(streams), -1), relayOut(std::size_t(streams), -1),
        client(std::size_t(streams), -1);
    bool ok = true;
    for (std::size_t i = 0; ok && i < std::size_t(streams); ++i)
        ok = tcpPair(listener, port, server[i], relayIn[i]) && tcpPair(listener, port, relayOut[i], client[i]);
    ::close(listener);
    std::atomic<bool> stop{false};
    std::thread relay;
    if (ok) {
        relay = std::thread([&] { relayLoop(relayIn, relayOut, latency, stop); });
        const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
        for (std::size_t i = 0; i < client.size(); ++i) {
            edgesse::net::enableReceiveTimestamps(client[i]);
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.u64 = i;
            ::epoll_ctl(epfd, EPOLL_CTL_ADD, client[i], &ev);
        }
        const std::vector<unsigned char> block = eventBlock(eventBytes, frames);
        const std::size_t perRound = client.size() * std::size_t(std::max(1, frames));
        std::vector<FrameWalker> walkers(client.size(), FrameWalker{frames == 0 ? 0u : 9u, eventBytes});
        std::vector<double> delays;
        delays.reserve(perRound * std::size_t(events));
        char buffer[16384];
        epoll_event ready[256];
        const double cpuBefore = processCpuSeconds();
        for (int round = 0; round < events; ++round) {
            // The next event leaves once every stream has received the last one: no pause.
            const Clock::time_point published = Clock::now();
            for (int fd : server)
                [[maybe_unused]] const ssize_t sent = ::send(fd, block.data(), block.size(), MSG_NOSIGNAL);
            std::size_t received = 0;
            const Clock::time_point giveUp = published + latency + 10s;
            while (received < perRound && Clock::now() < giveUp) {
                const int n = ::epoll_wait(epfd, ready, 256, 100);
                for (int e = 0; e < n; ++e) {
                    const std::size_t i = ready[e].data.u64;
                    Clock::time_point arrival;
                    const ssize_t bytes = edgesse::net::receiveStamped(client[i], buffer, sizeof buffer, arrival);
                    if (bytes <= 0)
                        continue;
                    const int completed = walkers[i].consume(buffer, std::size_t(bytes));
                    const double delay = std::chrono::duration<double, std::milli>(arrival - published - latency).count();
                    for (int c = 0; c < completed; ++c)
                        delays.push_back(delay);
                    received += std::size_t(completed);
                }
            }
        }
        const double cpu = processCpuSeconds() - cpuBefore;
        ::close(epfd);
        stop = true;
        relay.join();
        std::sort(delays.begin(), delays.end());
        if (!delays.empty())
            floor = {true, edgesse::testing::percentileOfSorted(delays, 0.5), edgesse::testing::percentileOfSorted(delays, 0.99),
                     delays.back(), cpu * 1e6 / double(delays.size())};
    }
    for (const auto *fds : {&server, &relayIn, &relayOut, &client})
        for (int fd : *fds)
            if (fd >= 0)
                ::close(fd);
    return floor;
}

void printFloor(int connections, int frames = 0)
{
    const Floor f = kernelFloor(connections, 20, 20ms, 128, frames);
    if (!f.ok) {
        std::printf("%-28s floor: could not open %d loopback pairs\n", "", connections * 2);
        return;
    }
    std::printf("%-28s floor (raw sockets, a 20 ms relay, 2 threads): overhead p50 %6.3f p99 %7.3f max %7.3f ms; "
                "CPU %.2f us per delivery\n",
                "", f.p50, f.p99, f.max, f.cpuUsPerDelivery);
    std::fflush(stdout);
}

// The process's CPU time (every thread: origin, link, browsers) per delivery over a run's
// measured window, from its live snapshot, sampled every 20 ms beside it.
class CpuSampler
{
public:
    CpuSampler(const sim::Run &run, const scenario::Variant &v)
        : m_thread([this, &run, from = double(v.warmup.count()) / double((v.warmup + v.duration).count())] { sample(run, from); })
    {
    }
    ~CpuSampler()
    {
        m_stop = true;
        m_thread.join();
    }
    CpuSampler(const CpuSampler &) = delete;
    CpuSampler &operator=(const CpuSampler &) = delete;

    // Microseconds (0 when the window was not seen).
    double usPerDelivery() const
    {
        return m_lastDelivered > m_firstDelivered ? (m_lastCpu - m_firstCpu) * 1e6 / double(m_lastDelivered - m_firstDelivered)
                                                  : 0.0;
    }

private:
    void sample(const sim::Run &run, double from)
    {
        bool began = false;
        while (!m_stop) {
            const sim::LiveSnapshot snap = run.snapshot();
            const double cpu = processCpuSeconds();
            if (snap.valid && snap.fraction > from && snap.fraction < 1) {
                if (!began) {
                    began = true;
                    m_firstCpu = cpu;
                    m_firstDelivered = snap.delivered;
                }
                m_lastCpu = cpu;
                m_lastDelivered = snap.delivered;
            }
            std::this_thread::sleep_for(20ms);
        }
    }

    std::atomic<bool> m_stop{false};
    double m_firstCpu = 0, m_lastCpu = 0;
    std::uint64_t m_firstDelivered = 0, m_lastDelivered = 0;
    std::thread m_thread;
};

bool runOne(const scenario::Variant &v, double timeScale = 1)
{
    sim::Run::Settings settings;
    settings.keepStreamRows = false;
    settings.timeScale = timeScale;
    sim::Run run(v, settings);
    QString error;
    QObject::connect(&run, &sim::Run::failed, &run, [&](const QString &reason) { error = reason; }, Qt::DirectConnection);
    double cpuUs = 0;
    {
        const CpuSampler cpu(run, v);
        run.start();
        run.wait();
        cpuUs = cpu.usPerDelivery();
    }
    if (!error.isEmpty()) {
        std::printf("%-28s failed: %s\n", qPrintable(v.name), qPrintable(error));
        return false;
    }
    const metrics::VariantResult r = run.result();
    const auto t = run.timings();
    std::printf("%-28s streams %6lld  descriptors %6llu/%-6llu  delivered %9llu/%-9llu  latency p50 %7.2f ms  "
                "overhead p50 %6.3f p99 %7.3f max %7.3f ms  set-up %5.0f ms (all streams open %5.0f ms)  "
                "tear-down %5.0f ms; CPU %.2f us per delivery\n",
                qPrintable(v.name), static_cast<long long>(v.totalStreams()),
                static_cast<unsigned long long>(v.descriptorsNeeded()),
                static_cast<unsigned long long>(net::currentFdLimit().soft),
                static_cast<unsigned long long>(r.events.delivered), static_cast<unsigned long long>(r.events.expected),
                r.latency.p50, r.overhead.p50, r.overhead.p99, r.overhead.max, double(t.setUp.count()) / 1000.0,
                double(t.allOpen.count()) / 1000.0, double(t.tearDown.count()) / 1000.0, cpuUs);
    if (timeScale > 1)
        std::printf("%-28s time scale %g: figures in modelled time; %.1f modelled s per wall s\n", "", timeScale,
                    r.wallS > 0 ? r.durationS / r.wallS : 0.0);
    std::fflush(stdout);
    return true;
}

metrics::VariantResult runQuiet(const scenario::Variant &v, double timeScale, QString *error, double *cpuUs = nullptr)
{
    sim::Run::Settings settings;
    settings.keepStreamRows = false;
    settings.timeScale = timeScale;
    sim::Run run(v, settings);
    QObject::connect(&run, &sim::Run::failed, &run, [&](const QString &reason) { *error = reason; }, Qt::DirectConnection);
    {
        const CpuSampler cpu(run, v);
        run.start();
        run.wait();
        if (cpuUs)
            *cpuUs = cpu.usPerDelivery();
    }
    return run.result();
}

double worstGroupError(const metrics::VariantResult &r, std::uint64_t &samples)
{
    double worst = 0;
    samples = 0;
    for (const auto &g : r.groups) {
        samples += g.error.percentiles.count;
        if (g.error.percentiles.count > 0)
            worst = std::max(worst, g.error.percentiles.p99);
    }
    return worst;
}

void printStreamFigures(const char *label, const metrics::VariantResult &r)
{
    const metrics::GroupResult &g = r.groups.front();
    std::printf("%-28s %s: latency p50 %7.3f ms, p99 %7.3f ms; first event p50 %7.2f p99 %7.2f ms; starved %llu; "
                "reconnects %llu; lost %llu; error p50 %6.3f p99 %6.3f ms (trusted %s)\n",
                "", label, g.latency.p50, g.latency.p99, g.timeToFirstEvent.p50, g.timeToFirstEvent.p99,
                static_cast<unsigned long long>(g.streams.starved), static_cast<unsigned long long>(g.streams.reconnects),
                static_cast<unsigned long long>(g.events.lost), g.error.percentiles.p50, g.error.percentiles.p99,
                !g.error.trusted ? "n/a" : (*g.error.trusted ? "yes" : "no"));
}

double wallSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// The search, one calibration at a time, each printed as it ends.
// `cpuUsAtScale1`: the CPU time per delivery of the first calibration, at scale 1 (at a large
// scale the process's fixed costs over the long wall time outweigh the few deliveries).
std::optional<double> chooseScale(const scenario::Variant &v, double toleranceMs, double *cpuUsAtScale1)
{
    sim::TimeScaleSearch search(toleranceMs);
    while (!search.decided()) {
        const double scale = search.next();
        const scenario::Variant c = sim::calibrationVariant(v, scale);
        const Clock::time_point began = Clock::now();
        QString error;
        double cpuUs = 0;
        const metrics::VariantResult r = runQuiet(c, scale, &error, &cpuUs);
        if (scale == 1)
            *cpuUsAtScale1 = cpuUs;
        if (!error.isEmpty()) {
            std::printf("%-28s calibration failed: %s\n", qPrintable(v.name), qPrintable(error));
            return std::nullopt;
        }
        std::uint64_t samples = 0;
        const double worst = worstGroupError(r, samples);
        std::printf("%-28s calibration x%g (%.2f s + %.2f s modelled): error p99 %.3f ms over %llu events, %.1f s of wall time\n",
                    qPrintable(v.name), scale, double(c.warmup.count()) / 1e6, double(c.duration.count()) / 1e6, worst,
                    static_cast<unsigned long long>(samples), wallSince(began));
        std::fflush(stdout);
        search.measured(scale, samples, worst);
    }
    std::printf("%-28s auto chose time scale %g: %s\n", qPrintable(v.name), search.chosen(), qPrintable(search.reason()));
    std::fflush(stdout);
    return search.chosen();
}

// The floor at the same error. Its overhead is wall time too: at scale 1 the least scale for
// the tolerance is ceil(p99 / tolerance). It is also run at the engine's scale (its hold
// stretched as a link's is, its overhead divided by the scale), so both least scales can be
// estimated from runs at the same scale.
void printFloorBeside(int streams, std::size_t eventBytes, int frames, double toleranceMs, double engineScale,
                      double engineNeeded, double engineCpuUs)
{
    const Floor f = kernelFloor(streams, 20, 20ms, eventBytes, frames);
    const auto hold = std::chrono::milliseconds(std::llround(20 * engineScale));
    const Floor d = kernelFloor(streams, 6, hold, eventBytes, frames);
    if (!f.ok || !d.ok) {
        std::printf("%-28s floor: could not open %d loopback pairs\n", "", streams * 2);
        return;
    }
    const double floorScale = std::max(1.0, std::ceil(f.p99 / toleranceMs));
    const double floorAtScale = d.p99 / engineScale;
    const double floorNeeded = std::max(1.0, std::ceil(engineScale * floorAtScale / toleranceMs));
    std::printf("%-28s floor (raw sockets, epoll, a relay thread, no engine): at scale 1 overhead p50 %.3f p99 %.3f max %.3f ms, "
                "so scale %g for p99 <= %.3g ms (%.4f modelled s per wall s); at scale %g (%lld ms hold) p99 %.3f ms "
                "modelled, so scale %g\n",
                "", f.p50, f.p99, f.max, floorScale, toleranceMs, 1.0 / floorScale, engineScale,
                static_cast<long long>(hold.count()), floorAtScale, floorNeeded);
    const double ratio = engineNeeded / floorNeeded;
    std::printf("%-28s engine/floor, both from runs at scale %g: the engine needs scale %g, the floor %g: %.2fx, %s\n", "",
                engineScale, engineNeeded, floorNeeded, ratio, ratio <= 1.1 ? "within 1.1x" : "NOT within 1.1x");
    // Where the time goes: the work each delivery costs this machine, whatever its load.
    std::printf("%-28s CPU time per delivery at scale 1 (every thread of the process, measured window): engine %.2f us, "
                "floor %.2f us (%.1fx)\n",
                "", engineCpuUs, f.cpuUsPerDelivery, f.cpuUsPerDelivery > 0 ? engineCpuUs / f.cpuUsPerDelivery : 0.0);
    std::fflush(stdout);
}

// The floor carries the same deliveries: a stream's event on each of `connections`, or
// (HTTP/2, `frames` > 0) one write of a DATA frame for each of a connection's streams.
struct FloorShape {
    int connections = 0;
    std::size_t bytes = 128;
    int frames = 0;
};

bool runAuto(const scenario::Variant &v, FloorShape floor, double toleranceMs, metrics::VariantResult *out)
{
    const Clock::time_point began = Clock::now();
    double cpuUs = 0;
    const std::optional<double> chosen = chooseScale(v, toleranceMs, &cpuUs);
    if (!chosen)
        return false;
    const double scale = *chosen;
    QString error;
    const metrics::VariantResult r = runQuiet(v, scale, &error);
    if (!error.isEmpty()) {
        std::printf("%-28s failed: %s\n", qPrintable(v.name), qPrintable(error));
        return false;
    }
    std::uint64_t samples = 0;
    const double achieved = worstGroupError(r, samples);
    const double speed = r.wallS > 0 ? r.durationS / r.wallS : 0.0;
    // The machine's delay is about fixed in wall time: the least scale for the tolerance, from this run.
    const double needed = std::max(1.0, std::ceil(scale * achieved / toleranceMs));
    std::printf("%-28s at scale %g: error p99 %.3f ms (%llu events, %s), delivered %llu/%llu, %.4f modelled s per wall s; "
                "%.0f s of wall time with calibration\n",
                "", scale, achieved, static_cast<unsigned long long>(samples),
                achieved <= toleranceMs ? "within the tolerance" : "ABOVE the tolerance",
                static_cast<unsigned long long>(r.events.delivered), static_cast<unsigned long long>(r.events.expected), speed,
                wallSince(began));
    std::fflush(stdout);
    if (floor.connections > 0)
        printFloorBeside(floor.connections, floor.bytes, floor.frames, toleranceMs, scale, needed, cpuUs);
    if (out)
        *out = r;
    return true;
}

int autoBench(const std::vector<int> &which, bool quick)
{
    constexpr double kToleranceMs = 1.0;
    const auto shortRun = [quick](const char *name, scenario::Protocol p, qint64 browsers, int streams) {
        scenario::Variant v = topology(name, p, browsers, streams, quick ? 1s : 2s);
        v.warmup = quick ? 500ms : 1s;
        return v;
    };
    bool ok = true;
    for (const int n : which) {
        if (n == 1000)
            ok &= runAuto(shortRun("1000 streams HTTP/1.1", scenario::Protocol::Http1, 1000, 1), {1000, 128}, kToleranceMs,
                          nullptr);
        // 200 connections of 100 streams: 800 descriptors through the link, within 20,000.
        if (n == 20000)
            ok &= runAuto(shortRun("20000 streams HTTP/2", scenario::Protocol::Http2, 200, 100), {200, 128, 100},
                          kToleranceMs, nullptr);
        if (n == 4000) {
            metrics::VariantResult big;
            const scenario::Variant world = shortRun("4000 streams HTTP/1.1", scenario::Protocol::Http1, 4000, 1);
            if (!runAuto(world, {4000, 128}, kToleranceMs, &big)) {
                ok = false;
                continue;
            }
            scenario::Variant small = world;
            small.name = QStringLiteral("200 streams HTTP/1.1");
            small.clients.front().count = 200;
            QString error;
            const metrics::VariantResult few = runQuiet(small, 1, &error);
            printStreamFigures("4000 streams, auto scale", big);
            printStreamFigures("200 streams, scale 1", few);
            const double dp50 = big.groups.front().latency.p50 - few.groups.front().latency.p50;
            std::printf("%-28s latency p50 differs by %.3f ms (tolerance %.3g ms): %s\n", "", dp50, kToleranceMs,
                        std::abs(dp50) <= kToleranceMs ? "agree" : "DISAGREE");
        }
    }
    return ok ? 0 : 1;
}

int overheadBench(bool quick)
{
    const auto duration = quick ? 3s : 10s;
    bool ok = true;
    ok &= runOne(topology("2000 streams (set-up/down)", scenario::Protocol::Http1, 2000, 1, 2s));
    // Overhead grows with the fan-out: one event is written to every stream's connection,
    // read and re-sent by the link proxy and read by the browser, all on this machine.
    if (!quick) {
        ok &= runOne(topology("500 streams HTTP/1.1", scenario::Protocol::Http1, 500, 1, duration));
        printFloor(500);
        ok &= runOne(topology("1000 streams HTTP/1.1", scenario::Protocol::Http1, 1000, 1, duration));
        printFloor(1000);
    }
    ok &= runOne(topology("4000 streams HTTP/1.1", scenario::Protocol::Http1, 4000, 1, duration));
    printFloor(4000);
    if (!quick) {
        ok &= runOne(topology("20000 streams HTTP/2", scenario::Protocol::Http2, 200, 100, duration));
        printFloor(200, 100);
    }
    // One connection a stream: four descriptors each through a link, beyond this machine's
    // limit — the run refuses up front, naming what it needs.
    const bool refused = !runOne(topology("20000 streams HTTP/1.1", scenario::Protocol::Http1, 20000, 1, 1s));
    std::printf("%-28s %s\n", "", refused ? "(refused as expected)" : "(ran: the descriptor limit is high enough here)");
    return ok ? 0 : 1;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const QStringList args = app.arguments().mid(1);
    const bool quick = args.contains(QStringLiteral("--quick"));
    if (args.contains(QStringLiteral("--overhead")))
        return overheadBench(quick);
    if (args.size() > 1 && args[0] == QLatin1String("--dilated")) {
        // The 4,000-stream run at scale 1 and at the given scale, for the overhead in modelled time.
        const double scale = args[1].toDouble();
        const auto v = topology("4000 streams HTTP/1.1", scenario::Protocol::Http1, 4000, 1, 5s);
        return runOne(v) && runOne(v, scale) ? 0 : 1;
    }
    if (args.size() > 1 && args[0] == QLatin1String("--h2")) {
        // One HTTP/2 fan-out at scale 1 (N browsers of 100 streams, 3 s) beside its floor: the run to profile.
        const int browsers = std::max(1, args[1].toInt());
        const auto seconds = std::chrono::seconds(args.size() > 2 ? std::clamp(args[2].toInt(), 1, 600) : 3);
        const auto v = topology("HTTP/2 fan-out", scenario::Protocol::Http2, browsers, 100, seconds);
        const bool ran = runOne(v);
        printFloor(browsers, 100);
        return ran ? 0 : 1;
    }
    std::vector<int> which;
    for (const QString &a : args)
        if (a.toInt() > 0)
            which.push_back(a.toInt());
    if (which.empty())
        which = quick ? std::vector<int>{1000} : std::vector<int>{1000, 4000, 20000};
    return autoBench(which, quick);
}
