// One origin fanning out 256 B events, written to every stream as they are published (no
// batching timer; events due in the same millisecond tick share one write per stream, as in
// the Node reference, whose http module corks a socket until the tick ends),
// to 1,000 HTTP/1.1 connections and to 1,000 HTTP/2 streams (10 connections x 100), with
// h2load as the load client; in the same run the same load against a Node.js SSE server
// (tests/peers/node-sse-bench-server.mjs, Node's http and http2 modules) publishing at the
// same offered rate. Deliveries/s = h2load's data bytes over its measured duration divided
// by the size of one event on the wire. Also prints resident memory per idle stream.
//
//   bench_sse_fanout [--duration S] [--streams N] [--payload B]
//                    [--rate-h1 EV/S] [--rate-h2 EV/S] [--idle-streams N] [--no-node] [--no-raw]
#include "core/net/fdlimit.h"
#include "core/net/netthreads.h"
#include "core/sse/sseencoder.h"
#include "core/sse/sseserver.h"
#include "tests/support/loopback.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace edgesse;

namespace {

int g_h2loadThreads = 1;

// Bytes queued in stream buffers above which a publish tick is skipped (both servers).
constexpr qint64 kWatermark = 8 * 1024 * 1024;

void pump(int ms)
{
    QEventLoop loop;
    QTimer::singleShot(ms, &loop, &QEventLoop::quit);
    loop.exec();
}

bool waitUntil(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > ms)
            return false;
        pump(5);
    }
    return true;
}

qint64 residentBytes(qint64 pid)
{
    QFile f(pid == 0 ? QStringLiteral("/proc/self/statm") : QStringLiteral("/proc/%1/statm").arg(pid));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> fields = f.readAll().split(' ');
    return fields.size() > 1 ? fields[1].toLongLong() * sysconf(_SC_PAGESIZE) : 0;
}

QByteArray eventPayload(int bytes)
{
    return QByteArray(bytes, 'x');
}

// Paced publisher for our server, the same rule as the Node reference's loop: every
// millisecond the events due at `rate` are published together, unless more than kWatermark
// bytes are still queued (then they are skipped); while the server is still writing the last
// batch, due events accumulate for the next one.
class Publisher
{
public:
    Publisher(sse::SseServer &server, QByteArray payload) : m_server(server), m_payload(std::move(payload))
    {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(1);
        QObject::connect(&m_timer, &QTimer::timeout, [this] { tick(); });
    }
    // strict: every event is published (and so written to every stream) on its own.
    void start(double rate, bool strict)
    {
        m_rate = rate;
        m_strict = strict;
        m_due = 0;
        m_base = static_cast<std::uint64_t>(m_server.stats().eventsPublished) - m_seq;
        m_clock.start();
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    std::uint64_t published() const { return m_seq; }
    std::uint64_t batches() const { return m_batches; }

private:
    void tick()
    {
        const auto target = static_cast<std::uint64_t>(static_cast<double>(m_clock.nsecsElapsed()) / 1e9 * m_rate);
        if (target <= m_due)
            return;
        const sse::ServerStats stats = m_server.stats();
        // Still writing the previous batch: the due events wait for the next tick, as they
        // would behind a single-threaded loop (the Node reference's publish loop).
        if (m_seq + m_base != static_cast<std::uint64_t>(stats.eventsPublished))
            return;
        const std::uint64_t n = target - m_due;
        m_due = target;
        if (stats.bytesQueued > kWatermark)
            return;
        // The events due in this tick are published together, as the Node reference's loop
        // writes them within one tick (Node's http corks a socket until the tick ends).
        std::vector<sse::PublishedEvent> due;
        due.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) {
            sse::PublishedEvent e;
            e.seq = ++m_seq;
            e.publishedAt = std::chrono::steady_clock::now();
            e.event.id = QByteArray::number(static_cast<qulonglong>(e.seq));
            e.event.data = m_payload;
            due.push_back(std::move(e));
        }
        if (m_strict) {
            for (sse::PublishedEvent &e : due)
                m_server.publish(e);
            m_batches += n;
        } else {
            m_server.publish(std::move(due));
            ++m_batches;
        }
    }

    sse::SseServer &m_server;
    QByteArray m_payload;
    QTimer m_timer;
    QElapsedTimer m_clock;
    double m_rate = 0;
    std::uint64_t m_due = 0;
    std::uint64_t m_seq = 0;
    std::uint64_t m_base = 0; // events the server had from earlier publishers
    std::uint64_t m_batches = 0;
    bool m_strict = false;
};

// About the most this machine and this load client can show in strict HTTP/1.1: the least an
// SSE server can do — raw sockets on one thread, a fixed response head, every event framed as one
// chunk and sent to each stream with one send() (what "strict" asks of any server), bytes a
// full socket refuses kept and sent once it drains. No HTTP parsing beyond the end of the
// request head, no replay, no counters. Its peak is about what h2load can be shown by any
// server (within the run-to-run noise of a few tens of percent).
class RawSseServer
{
public:
    explicit RawSseServer(const QByteArray &eventBytes)
    {
        const QByteArray chunk = QByteArray::number(eventBytes.size(), 16) + "\r\n" + eventBytes + "\r\n";
        m_chunk.assign(chunk.constData(), static_cast<std::size_t>(chunk.size()));
        m_listener = edgesse::testing::listenLoopback(port, true);
        if (m_listener < 0)
            return;
        m_thread = std::thread([this] { loop(); });
    }
    ~RawSseServer()
    {
        m_quit = true;
        if (m_thread.joinable())
            m_thread.join();
        if (m_listener >= 0)
            ::close(m_listener);
    }
    void setRate(double rate) { m_rate.store(rate); }
    int streams() const { return m_streamCount.load(); }
    quint16 port = 0;

private:
    struct Connection {
        int fd = -1;
        std::string head;    // the request head, until its blank line
        std::string backlog; // bytes the socket did not take yet
        bool streaming = false;
        bool wantWrite = false;
    };

    void loop()
    {
        const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
        epoll_event listen{};
        listen.events = EPOLLIN;
        listen.data.u64 = ~std::uint64_t{0};
        ::epoll_ctl(epfd, EPOLL_CTL_ADD, m_listener, &listen);
        std::vector<Connection> connections;
        std::vector<std::size_t> freeSlots;
        epoll_event ready[256];
        char buffer[4096];
        double rate = 0;
        std::uint64_t due = 0;
        auto started = std::chrono::steady_clock::now();
        const auto drop = [&](std::size_t i) {
            Connection &c = connections[i];
            if (c.streaming)
                --m_streamCount;
            ::close(c.fd);
            c = Connection{};
            freeSlots.push_back(i);
        };
        const auto flush = [&](std::size_t i) {
            Connection &c = connections[i];
            while (!c.backlog.empty()) {
                const ssize_t n = ::send(c.fd, c.backlog.data(), c.backlog.size(), MSG_NOSIGNAL);
                if (n <= 0)
                    break;
                c.backlog.erase(0, static_cast<std::size_t>(n));
            }
            const bool want = !c.backlog.empty();
            if (want != c.wantWrite) {
                c.wantWrite = want;
                epoll_event ev{};
                ev.events = EPOLLIN | (want ? EPOLLOUT : 0u);
                ev.data.u64 = i;
                ::epoll_ctl(epfd, EPOLL_CTL_MOD, c.fd, &ev);
            }
        };
        while (!m_quit.load(std::memory_order_relaxed)) {
            const int n = ::epoll_wait(epfd, ready, 256, 1);
            for (int e = 0; e < n; ++e) {
                const std::uint64_t key = ready[e].data.u64;
                if (key == ~std::uint64_t{0}) {
                    for (int fd; (fd = ::accept4(m_listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0;) {
                        const int one = 1;
                        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                        std::size_t i = connections.size();
                        if (!freeSlots.empty()) {
                            i = freeSlots.back();
                            freeSlots.pop_back();
                        } else {
                            connections.emplace_back();
                        }
                        connections[i].fd = fd;
                        epoll_event ev{};
                        ev.events = EPOLLIN;
                        ev.data.u64 = i;
                        ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
                    }
                    continue;
                }
                Connection &c = connections[key];
                if (c.fd < 0)
                    continue;
                if (ready[e].events & EPOLLOUT)
                    flush(key);
                if (!(ready[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                    continue;
                const ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
                if (got == 0 || (got < 0 && errno != EAGAIN)) {
                    drop(key);
                    continue;
                }
                if (got > 0 && !c.streaming) {
                    c.head.append(buffer, static_cast<std::size_t>(got));
                    if (c.head.find("\r\n\r\n") != std::string::npos) {
                        c.streaming = true;
                        ++m_streamCount;
                        c.backlog = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
                                    "Transfer-Encoding: chunked\r\n\r\n";
                        flush(key);
                    }
                }
            }
            // The benchmark's publishing rule: every millisecond, the events due at the rate.
            const double wanted = m_rate.load(std::memory_order_relaxed);
            if (wanted != rate) {
                rate = wanted;
                due = 0;
                started = std::chrono::steady_clock::now();
            }
            if (rate <= 0)
                continue;
            const auto target = static_cast<std::uint64_t>(
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() * rate);
            std::size_t queued = 0;
            for (const Connection &c : connections)
                queued += c.backlog.size();
            const std::uint64_t count = target - due;
            due = target;
            if (queued > static_cast<std::size_t>(kWatermark))
                continue;
            for (std::uint64_t k = 0; k < count; ++k) {
                for (std::size_t i = 0; i < connections.size(); ++i) {
                    Connection &c = connections[i];
                    if (!c.streaming)
                        continue;
                    if (!c.backlog.empty()) {
                        c.backlog += m_chunk;
                        continue;
                    }
                    const ssize_t sent = ::send(c.fd, m_chunk.data(), m_chunk.size(), MSG_NOSIGNAL);
                    if (sent < static_cast<ssize_t>(m_chunk.size())) {
                        c.backlog.assign(m_chunk, static_cast<std::size_t>(std::max<ssize_t>(sent, 0)));
                        flush(i);
                    }
                }
            }
        }
        for (std::size_t i = 0; i < connections.size(); ++i)
            if (connections[i].fd >= 0)
                drop(i);
        ::close(epfd);
    }

    std::string m_chunk;
    int m_listener = -1;
    std::thread m_thread;
    std::atomic<bool> m_quit{false};
    std::atomic<double> m_rate{0};
    std::atomic<int> m_streamCount{0};
};

class NodeServer
{
public:
    bool start(const QString &script, int payload)
    {
        m_process.setProgram(QStandardPaths::findExecutable(QStringLiteral("node")));
        m_process.setArguments({script, QStringLiteral("--payload"), QString::number(payload), QStringLiteral("--watermark"),
                                QString::number(kWatermark)});
        m_process.setProcessChannelMode(QProcess::ForwardedErrorChannel);
        m_process.start();
        if (!m_process.waitForStarted(5000))
            return false;
        return waitUntil([&] { return readPorts(); }, 10000);
    }
    ~NodeServer()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.write("quit\n");
            if (!m_process.waitForFinished(3000))
                m_process.kill();
            m_process.waitForFinished(3000);
        }
    }
    void command(const QByteArray &line) { m_process.write(line + '\n'); }
    // Streams the Node server has open and events it published (asks it, waits for the answer).
    struct Stats { qint64 published = -1; int streams = -1; qint64 batches = -1; };
    Stats stats()
    {
        command("stats");
        QRegularExpressionMatch m;
        waitUntil([&] {
            m_out += m_process.readAllStandardOutput();
            m = QRegularExpression(QStringLiteral("stats published=(\\d+) streams=(\\d+) batches=(\\d+)")).match(QString::fromUtf8(m_out));
            return m.hasMatch();
        }, 20000); // a Node loop deep in a large batch answers late
        m_out.clear();
        if (!m.hasMatch())
            return {};
        return {m.captured(1).toLongLong(), m.captured(2).toInt(), m.captured(3).toLongLong()};
    }
    int streams() { return stats().streams; }
    qint64 pid() const { return m_process.processId(); }
    quint16 h1 = 0;
    quint16 h2 = 0;

private:
    bool readPorts()
    {
        m_out += m_process.readAllStandardOutput();
        const auto m1 = QRegularExpression(QStringLiteral("h1 (\\d+)")).match(QString::fromUtf8(m_out));
        const auto m2 = QRegularExpression(QStringLiteral("h2 (\\d+)")).match(QString::fromUtf8(m_out));
        if (!m1.hasMatch() || !m2.hasMatch())
            return false;
        h1 = static_cast<quint16>(m1.captured(1).toUInt());
        h2 = static_cast<quint16>(m2.captured(1).toUInt());
        m_out.clear();
        return true;
    }
    QProcess m_process;
    QByteArray m_out;
};

struct Load {
    bool http2 = false;
    int streams = 1000;
    QStringList h2loadArgs() const
    {
        if (!http2)
            return {QStringLiteral("--h1"), QStringLiteral("-c"), QString::number(streams)};
        return {QStringLiteral("-c"), QString::number(streams / 100), QStringLiteral("-m"), QStringLiteral("100")};
    }
};

// Runs h2load against `url`; returns its data bytes over the measured duration, or -1.
// (h2load 1.52 keeps counting data bytes through --warm-up-time, so none is used: streams open
// in well under a second, and publishing starts only once all are open.)
qint64 runH2load(const Load &load, quint16 port, int duration, const std::function<void()> &whileRunning = {})
{
    QProcess h2load;
    h2load.setProgram(QStandardPaths::findExecutable(QStringLiteral("h2load")));
    h2load.setArguments(load.h2loadArgs()
                        + QStringList{QStringLiteral("-t"), QString::number(g_h2loadThreads), QStringLiteral("-D"), QString::number(duration),
                                      QStringLiteral("http://127.0.0.1:%1/events").arg(port)});
    h2load.start();
    if (!h2load.waitForStarted(5000))
        return -1;
    if (whileRunning)
        whileRunning();
    waitUntil([&] { return h2load.state() == QProcess::NotRunning; }, (duration + 30) * 1000);
    const QString out = QString::fromUtf8(h2load.readAllStandardOutput());
    const auto m = QRegularExpression(QStringLiteral("traffic: .* \\((\\d+)\\) data")).match(out);
    if (!m.hasMatch()) {
        std::fprintf(stderr, "h2load output not understood:\n%s\n%s\n", qPrintable(out),
                     h2load.readAllStandardError().constData());
        return -1;
    }
    return m.captured(1).toLongLong();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("SSE fan-out: EdgeSSE's server against a Node.js reference, h2load as client"));
    parser.addHelpOption();
    const QCommandLineOption durationOption(QStringLiteral("duration"), QStringLiteral("Measured seconds per run."), QStringLiteral("S"), QStringLiteral("5"));
    const QCommandLineOption streamsOption(QStringLiteral("streams"), QStringLiteral("Streams per run (multiple of 100)."), QStringLiteral("N"), QStringLiteral("1000"));
    const QCommandLineOption payloadOption(QStringLiteral("payload"), QStringLiteral("Event data bytes."), QStringLiteral("B"), QStringLiteral("256"));
    const QCommandLineOption rateH1Option(QStringLiteral("rate-h1"), QStringLiteral("Offered events/s, HTTP/1.1 runs."), QStringLiteral("EV/S"), QStringLiteral("2000"));
    const QCommandLineOption rateH2Option(QStringLiteral("rate-h2"), QStringLiteral("Offered events/s, HTTP/2 runs."), QStringLiteral("EV/S"), QStringLiteral("8000"));
    const QCommandLineOption idleOption(QStringLiteral("idle-streams"), QStringLiteral("Idle streams for the memory figure."), QStringLiteral("N"), QStringLiteral("2000"));
    const QCommandLineOption clientThreadsOption(QStringLiteral("h2load-threads"), QStringLiteral("h2load -t (its own default is 1)."), QStringLiteral("N"), QStringLiteral("1"));
    const QCommandLineOption noNodeOption(QStringLiteral("no-node"), QStringLiteral("Skip the Node.js reference."));
    const QCommandLineOption noRawOption(QStringLiteral("no-raw"), QStringLiteral("Skip the raw-socket server (strict HTTP/1.1)."));
    const QCommandLineOption serveOption(QStringLiteral("serve"),
                                         QStringLiteral("Only serve: print the URL and publish at --rate-h1 until killed (for load tools by hand)."));
    parser.addOptions({durationOption, streamsOption, payloadOption, rateH1Option, rateH2Option, idleOption,
                       noNodeOption, noRawOption, serveOption, clientThreadsOption});
    parser.process(app);
    const int duration = parser.value(durationOption).toInt();
    const int streams = parser.value(streamsOption).toInt() / 100 * 100;
    const int payload = parser.value(payloadOption).toInt();
    const double rateH1 = parser.value(rateH1Option).toDouble();
    const double rateH2 = parser.value(rateH2Option).toDouble();
    const int idleStreams = parser.value(idleOption).toInt() / 100 * 100;
    const bool withNode = !parser.isSet(noNodeOption);
    const bool withRaw = !parser.isSet(noRawOption);
    g_h2loadThreads = std::max(1, parser.value(clientThreadsOption).toInt());

    if (QStandardPaths::findExecutable(QStringLiteral("h2load")).isEmpty()) {
        std::fprintf(stderr, "bench_sse_fanout: h2load not found; install nghttp2-client (scripts/dev does)\n");
        return 1;
    }
    net::raiseFdLimitToHard();
    const QString budget = net::checkDescriptorBudget(static_cast<std::uint64_t>(std::max(streams, idleStreams)) * 2 + 64);
    if (!budget.isEmpty()) {
        std::fprintf(stderr, "bench_sse_fanout: %s\n", qPrintable(budget));
        return 1;
    }

    net::NetThreads threads(1);
    sse::ServerSettings settings;
    settings.replayCapacity = 100;
    sse::SseServer server(settings);
    if (!server.start(threads.thread(0))) {
        std::fprintf(stderr, "bench_sse_fanout: %s\n", qPrintable(server.errorString()));
        return 1;
    }
    if (parser.isSet(serveOption)) {
        std::printf("%s\n", qPrintable(server.url().toString()));
        std::fflush(stdout);
        Publisher publisher(server, eventPayload(payload));
        publisher.start(rateH1, false);
        QTimer report;
        QObject::connect(&report, &QTimer::timeout, [&] {
            const auto st = server.stats();
            std::printf("published %lld streams %lld writes %lld queued %lld sent %lld\n", st.eventsPublished, st.streamsOpen,
                        st.eventWrites, st.bytesQueued, st.bytesSent);
            std::fflush(stdout);
        });
        report.start(200);
        return app.exec();
    }
    NodeServer node;
    const QString script = QStringLiteral(EDGESSE_SOURCE_DIR "/tests/peers/node-sse-bench-server.mjs");
    if (withNode && (QStandardPaths::findExecutable(QStringLiteral("node")).isEmpty() || !node.start(script, payload))) {
        std::fprintf(stderr, "bench_sse_fanout: cannot start the Node.js reference (%s); use --no-node to skip it\n",
                     qPrintable(script));
        return 1;
    }

    // Resident memory per idle stream: RSS of a fresh server process with N idle streams open
    // minus its RSS before (ours: this program in --serve mode; Node: a fresh reference server).
    struct Memory { double ours = 0, node = 0; };
    auto idleMemory = [&](const Load &load) {
        Memory m;
        const int hold = 4;
        QProcess child;
        child.setProgram(QCoreApplication::applicationFilePath());
        child.setArguments({QStringLiteral("--serve"), QStringLiteral("--rate-h1"), QStringLiteral("0")});
        child.start();
        QByteArray out;
        quint16 port = 0;
        int open = 0;
        auto poll = [&] {
            out += child.readAllStandardOutput();
            const QString text = QString::fromUtf8(out);
            const auto url = QRegularExpression(QStringLiteral("127\\.0\\.0\\.1:(\\d+)/events")).match(text);
            if (url.hasMatch())
                port = static_cast<quint16>(url.captured(1).toUInt());
            const auto all = QRegularExpression(QStringLiteral("streams (\\d+)")).globalMatch(text);
            for (auto it = all; it.hasNext();)
                open = it.next().captured(1).toInt();
        };
        if (!child.waitForStarted(5000) || !waitUntil([&] { poll(); return port != 0; }, 10000)) {
            std::fprintf(stderr, "bench_sse_fanout: the --serve child did not start\n");
            return m;
        }
        pump(300);
        const qint64 before = residentBytes(child.processId());
        qint64 during = before;
        runH2load(load, port, hold, [&] {
            if (waitUntil([&] { poll(); return open == load.streams; }, 10000)) {
                pump(300);
                during = residentBytes(child.processId());
            } else {
                std::fprintf(stderr, "bench_sse_fanout: only %d of %d idle streams opened\n", open, load.streams);
            }
        });
        child.kill();
        child.waitForFinished(5000);
        m.ours = static_cast<double>(during - before) / load.streams;
        if (withNode) {
            NodeServer fresh;
            if (fresh.start(script, payload)) {
                pump(300);
                const qint64 nodeBefore = residentBytes(fresh.pid());
                qint64 nodeDuring = nodeBefore;
                runH2load(load, load.http2 ? fresh.h2 : fresh.h1, hold, [&] {
                    if (waitUntil([&] { return fresh.streams() == load.streams; }, 10000)) {
                        pump(300);
                        nodeDuring = residentBytes(fresh.pid());
                    }
                });
                m.node = static_cast<double>(nodeDuring - nodeBefore) / load.streams;
            }
        }
        return m;
    };
    const Memory idleH1 = idleMemory({false, idleStreams});
    const Memory idleH2 = idleMemory({true, idleStreams});

    sse::Event sample;
    sample.id = QByteArray::number(500000);
    sample.data = eventPayload(payload);
    const double eventBytes = static_cast<double>(sse::SseEncoder::encode(sample).size());

    struct Result { double ours = 0, node = 0, oursPublished = 0, nodePublished = 0, oursBatch = 0, nodeBatch = 0, raw = -1; };
    auto throughput = [&](const Load &load, double rate, bool strict) {
        Result r;
        Publisher publisher(server, eventPayload(payload));
        const std::uint64_t before = publisher.published();
        QElapsedTimer wall;
        wall.start();
        const qint64 data = runH2load(load, server.port(), duration, [&] {
            waitUntil([&] { return server.stats().streamsOpen == load.streams; }, 10000);
            publisher.start(rate, strict);
            wall.restart();
        });
        publisher.stop();
        r.oursPublished = static_cast<double>(publisher.published() - before) / (static_cast<double>(wall.elapsed()) / 1000.0);
        r.oursBatch = publisher.batches() > 0 ? static_cast<double>(publisher.published()) / static_cast<double>(publisher.batches()) : 0;
        r.ours = static_cast<double>(data) / eventBytes / duration;
        waitUntil([&] { return server.stats().streamsOpen == 0; }, 10000);
        if (strict && !load.http2 && withRaw) {
            RawSseServer raw(sse::SseEncoder::encode(sample));
            const qint64 rawData = runH2load(load, raw.port, duration, [&] {
                waitUntil([&] { return raw.streams() == load.streams; }, 10000);
                raw.setRate(rate);
            });
            r.raw = static_cast<double>(rawData) / eventBytes / duration;
        }
        if (withNode) {
            NodeServer::Stats nodeBefore;
            QElapsedTimer nodeWall;
            const qint64 nodeData = runH2load(load, load.http2 ? node.h2 : node.h1, duration, [&] {
                waitUntil([&] { return node.streams() == load.streams; }, 10000);
                node.command(strict ? "mode strict" : "mode batch");
                nodeBefore = node.stats();
                node.command("rate " + QByteArray::number(rate));
                nodeWall.start();
            });
            node.command("rate 0");
            const NodeServer::Stats nodeAfter = node.stats();
            r.nodePublished = static_cast<double>(nodeAfter.published - nodeBefore.published)
                / (static_cast<double>(nodeWall.elapsed()) / 1000.0);
            if (nodeAfter.batches > nodeBefore.batches)
                r.nodeBatch = static_cast<double>(nodeAfter.published - nodeBefore.published)
                    / static_cast<double>(nodeAfter.batches - nodeBefore.batches);
            r.node = static_cast<double>(nodeData) / eventBytes / duration;
            waitUntil([&] { return node.streams() == 0; }, 10000);
        }
        return r;
    };
    // A server's delivery rate is capped by what the offered rate asks of it and, above its
    // capacity, by the CPU its own excess writes take from the load client on a shared
    // machine. So strict runs climb a ladder of offered rates up to the given one and
    // each server is credited with the best rate it reached (its peak).
    auto peak = [&](const Load &load, double topRate) {
        Result best;
        for (const double fraction : {0.125, 0.25, 0.5, 1.0}) {
            const double rate = topRate * fraction;
            const Result r = throughput(load, rate, true);
            std::fprintf(stderr, "  %s strict, offered %.0f ev/s: EdgeSSE %.0f, Node %.0f%s deliveries/s\n",
                         load.http2 ? "HTTP/2" : "HTTP/1.1", rate, r.ours, r.node,
                         r.raw >= 0 ? qPrintable(QStringLiteral(", raw-socket server %1").arg(r.raw, 0, 'f', 0)) : "");
            best.raw = std::max(best.raw, r.raw);
            if (r.ours > best.ours) {
                best.ours = r.ours;
                best.oursPublished = r.oursPublished;
                best.oursBatch = r.oursBatch;
            }
            if (r.node > best.node) {
                best.node = r.node;
                best.nodePublished = r.nodePublished;
                best.nodeBatch = r.nodeBatch;
            }
        }
        return best;
    };
    const Result h1Strict = peak({false, streams}, rateH1);
    const Result h2Strict = peak({true, streams}, rateH2);
    const Result h1 = throughput({false, streams}, rateH1, false);
    const Result h2 = throughput({true, streams}, rateH2, false);

    std::printf("SSE fan-out: %d-byte events (%.0f bytes on the wire), written to every stream as they are published\n", payload, eventBytes);
    std::printf("h2load -t %d -D %d; our server on one NetThreads thread (epoll dispatcher); same offered rate for both\n", g_h2loadThreads, duration);
    std::printf("strict: each event written on its own; batched: events that fell due while the previous ones were\n"
                "still being written go out together (Node's http corks a socket for the rest of a tick)\n\n");
    std::printf("%-50s %12s %12s %7s\n", "deliveries per second", "EdgeSSE", "Node.js", "ratio");
    auto row = [&](const QString &name, const Result &r, double rate) {
        std::printf("%-50s %12.0f %12s %7s   offered %.0f ev/s; published EdgeSSE %.0f, Node %s ev/s; events/write %.1f, %s\n",
                    qPrintable(name), r.ours, withNode ? qPrintable(QString::number(r.node, 'f', 0)) : "-",
                    withNode && r.node > 0 ? qPrintable(QString::number(r.ours / r.node, 'f', 2)) : "-", rate,
                    r.oursPublished, withNode ? qPrintable(QString::number(r.nodePublished, 'f', 0)) : "-", r.oursBatch,
                    withNode ? qPrintable(QString::number(r.nodeBatch, 'f', 1)) : "-");
    };
    const QString h1Name = QStringLiteral("HTTP/1.1, %1 connections (--h1 -c %1)").arg(streams);
    const QString h2Name = QStringLiteral("HTTP/2, %1 x 100 streams (-c %1 -m 100)").arg(streams / 100);
    row(h1Name + QStringLiteral(", strict, peak"), h1Strict, rateH1);
    if (h1Strict.raw >= 0)
        std::printf("%-50s %12.0f %12s %7s   a server doing the least there is to do (one send per event and stream);\n"
                    "%-50s %12s %12s %7s   its ratio to Node is about what h2load can show on this machine\n",
                    "  raw-socket server, same load, peak", h1Strict.raw, withNode ? qPrintable(QString::number(h1Strict.node, 'f', 0)) : "-",
                    withNode && h1Strict.node > 0 ? qPrintable(QString::number(h1Strict.raw / h1Strict.node, 'f', 2)) : "-", "", "", "", "");
    row(h2Name + QStringLiteral(", strict, peak"), h2Strict, rateH2);
    row(h1Name + QStringLiteral(", batched"), h1, rateH1);
    row(h2Name + QStringLiteral(", batched"), h2, rateH2);
    std::printf("\nresident memory per idle stream (%d streams):\n", idleStreams);
    std::printf("  HTTP/1.1: EdgeSSE %.1f KB%s\n", idleH1.ours / 1024.0,
                withNode ? qPrintable(QStringLiteral(", Node %1 KB").arg(idleH1.node / 1024.0, 0, 'f', 1)) : "");
    std::printf("  HTTP/2:   EdgeSSE %.1f KB%s\n", idleH2.ours / 1024.0,
                withNode ? qPrintable(QStringLiteral(", Node %1 KB").arg(idleH2.node / 1024.0, 0, 'f', 1)) : "");
    std::printf("targets: EdgeSSE >= 2x Node on both loads; <= 10 KB per idle stream\n");
    return 0;
}
