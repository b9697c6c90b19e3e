// Client-side costs: the event-stream parser's throughput against a memchr line scan of
// the same bytes (the least any line parser must do), and the memory a stream costs —
// EventSources held open over HTTP/1.1 (one connection each) and HTTP/2 (100 a connection)
// against an SseServer serving in a child process, so only the client's memory is counted.
//
//   build/release/tests/bench/bench_clients [streams]      (default 2000)

#include "core/http/httpclient.h"
#include "core/net/deadlinequeue.h"
#include "core/sse/browser.h"
#include "core/sse/sseparser.h"
#include "core/sse/sseserver.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

using namespace edgesse;

namespace {

long residentKb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray &line : f.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').front().toLong();
    }
    return 0;
}

void parserThroughput()
{
    QByteArray stream;
    const QByteArray payload(256, 'x');
    for (int i = 0; i < 200'000; ++i)
        stream += "id: " + QByteArray::number(i) + "\nevent: tick\ndata: " + payload + "\n\n";
    struct Counter final : sse::SseParser::Sink {
        std::size_t n = 0;
        void eventDispatched(const sse::Event &) override { ++n; }
    };
    constexpr qsizetype kChunk = 16 * 1024;
    double best = 1e18, baseline = 1e18;
    std::size_t lines = 0;
    for (int round = 0; round < 5; ++round) {
        Counter counter;
        sse::SseParser parser(counter);
        QElapsedTimer t;
        t.start();
        for (qsizetype i = 0; i < stream.size(); i += kChunk)
            parser.feed(stream.constData() + i, std::size_t(std::min(kChunk, stream.size() - i)));
        best = std::min(best, double(t.nsecsElapsed()));
        if (counter.n != 200'000)
            std::printf("parser: dispatched %zu events, expected 200000\n", counter.n);

        t.restart();
        lines = 0;
        for (qsizetype i = 0; i < stream.size(); i += kChunk) {
            const char *p = stream.constData() + i;
            const char *end = p + std::min(kChunk, stream.size() - i);
            while ((p = static_cast<const char *>(std::memchr(p, '\n', std::size_t(end - p))))) {
                ++lines;
                ++p;
            }
        }
        baseline = std::min(baseline, double(t.nsecsElapsed()));
    }
    const double mb = double(stream.size()) / 1e6;
    std::printf("parser: %.0f MB/s, %.1f M events/s (256 B data); memchr line scan %.0f MB/s (%zu lines); ratio %.2f\n",
                mb / (best / 1e9), 0.2 / (best / 1e9), mb / (baseline / 1e9), lines, best / baseline);
}

void memoryPerStream(int streams, http::ClientProtocol protocol, quint16 port)
{
    net::DeadlineQueue timers;
    const long before = residentKb();
    sse::Browser::Config config;
    config.port = port;
    config.protocol = protocol;
    config.streams = streams;
    config.maxConnectionsPerOrigin = streams;
    // HTTP/2: one browser per 100 streams (the server's stream limit), i.e. 100 a connection.
    const int perBrowser = protocol == http::ClientProtocol::Http2 ? 100 : streams;
    std::vector<std::unique_ptr<sse::Browser>> browsers;
    for (int opened = 0; opened < streams; opened += perBrowser) {
        config.streams = std::min(perBrowser, streams - opened);
        config.firstStreamTag = std::uint64_t(opened);
        browsers.push_back(std::make_unique<sse::Browser>(config, timers, nullptr));
        browsers.back()->open();
    }
    QElapsedTimer t;
    t.start();
    auto open = [&] {
        int n = 0;
        for (auto &b : browsers)
            n += b->openCount();
        return n;
    };
    while (open() < streams && t.elapsed() < 60'000)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    for (int i = 0; i < 20; ++i)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    const long after = residentKb();
    std::printf("%s: %d of %d streams open in %lld ms; client memory %.2f KB a stream\n",
                protocol == http::ClientProtocol::Http2 ? "HTTP/2  " : "HTTP/1.1", open(), streams,
                static_cast<long long>(t.elapsed()), double(after - before) / streams);
    for (auto &b : browsers)
        b->close();
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    if (argc > 1 && std::strcmp(argv[1], "--serve") == 0) {
        sse::ServerSettings settings;
        settings.http.idleTimeout = std::chrono::hours(1);
        sse::SseServer server(settings);
        if (!server.start())
            return 1;
        std::printf("PORT %u\n", server.port());
        std::fflush(stdout);
        return app.exec();
    }
    const int streams = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2000;
    parserThroughput();

    QProcess server;
    server.start(QCoreApplication::applicationFilePath(), {QStringLiteral("--serve")});
    if (!server.waitForReadyRead(10'000)) {
        std::printf("the server process did not start\n");
        return 1;
    }
    const quint16 port = quint16(server.readLine().mid(5).trimmed().toUInt());
    memoryPerStream(streams, http::ClientProtocol::Http1, port);
    memoryPerStream(streams, http::ClientProtocol::Http2, port);
    server.kill();
    server.waitForFinished();
    return 0;
}
