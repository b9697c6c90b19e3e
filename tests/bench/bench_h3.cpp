// HTTP/3 fan-out beside HTTP/2 in one run: 10 connections x 100 streams each way to one
// server, events published back to back; deliveries a second until every stream has every
// event, and the resident memory an idle stream costs (client and server together: both
// run in this process).
//   build/release/tests/bench/bench_h3 [events]

#include "core/http/h2client.h"
#include "core/quic/h3client.h"
#include "core/sse/sseserver.h"
#include "../support/h3support.h"
#include "tests/support/processusage.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>

#include <cstdio>
#include <memory>
#include <vector>

using namespace edgesse;

namespace {

constexpr int kConnections = 10;
constexpr int kStreamsEach = 100;

class Counting final : public http::ResponseHandler
{
public:
    void responseHeadReceived(const http::ResponseHead &head) override { ok = head.status == 200; }
    void responseDataReceived(const char *data, std::size_t size) override
    {
        for (std::size_t i = 0; i < size; ++i) {
            if (data[i] == '\n' && m_last == '\n')
                ++events;
            m_last = data[i];
        }
    }
    void responseCompleted() override {}
    void responseFailed(http::ClientError, const QString &) override { failed = true; }
    bool ok = false;
    bool failed = false;
    qint64 events = 0;

private:
    char m_last = 0;
};

qint64 residentKb()
{
    return std::max<qint64>(0, testing::residentBytes()) / 1024;
}

bool waitFor(const std::function<bool()> &done, int ms)
{
    QElapsedTimer t;
    t.start();
    while (!done() && t.elapsed() < ms)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 5);
    return done();
}

struct Result {
    double deliveriesPerSecond = 0;
    double kbPerIdleStream = 0;
    bool complete = false;
};

Result run(bool http3, sse::SseServer &server, const testing::QuicIdentity &id, int events)
{
    std::vector<Counting> streams(std::size_t(kConnections * kStreamsEach));
    std::vector<std::unique_ptr<http::ClientConnection>> connections;
    std::vector<std::unique_ptr<tls::TlsSessionSlot>> sessionSlots;
    const qint64 openBefore = server.stats().streamsOpen;
    const qint64 before = residentKb();
    for (int c = 0; c < kConnections; ++c) {
        if (http3) {
            auto h3 = std::make_unique<quic::H3ClientConnection>(QStringLiteral("127.0.0.1"), server.http3Port(), id.client);
            h3->setStreamCap(kStreamsEach);
            connections.push_back(std::move(h3));
        } else {
            sessionSlots.push_back(std::make_unique<tls::TlsSessionSlot>());
            auto h2 = std::make_unique<http::H2ClientConnection>(QStringLiteral("127.0.0.1"), server.port(), 1 << 20,
                                                                 http::ClientTls{id.tls->client.get(), sessionSlots.back().get()});
            connections.push_back(std::move(h2));
        }
        for (int s = 0; s < kStreamsEach; ++s) {
            http::ClientRequest r;
            r.path = "/events";
            r.authority = "127.0.0.1";
            connections.back()->submit(r, &streams[std::size_t(c * kStreamsEach + s)]);
        }
    }
    Result result;
    const qint64 total = kConnections * kStreamsEach;
    if (!waitFor([&] { return server.stats().streamsOpen - openBefore == total; }, 60'000))
        return result;
    waitFor([] { return false; }, 500);
    result.kbPerIdleStream = double(residentKb() - before) / double(total);
    QElapsedTimer timer;
    timer.start();
    const QByteArray payload(200, 'x');
    const std::uint64_t first = static_cast<std::uint64_t>(server.stats().eventsPublished) + 1;
    for (int e = 0; e < events; ++e) {
        sse::PublishedEvent ev;
        ev.seq = first + std::uint64_t(e);
        ev.event.id = QByteArray::number(static_cast<qulonglong>(ev.seq));
        ev.event.data = payload;
        server.publish(ev);
    }
    auto delivered = [&] {
        qint64 n = 0;
        for (const Counting &s : streams)
            n += s.events;
        return n;
    };
    result.complete = waitFor([&] { return delivered() >= total * events; }, 120'000);
    result.deliveriesPerSecond = double(delivered()) / (double(timer.nsecsElapsed()) / 1e9);
    for (auto &c : connections)
        c->close();
    waitFor([&] { return server.stats().streamsOpen == openBefore; }, 10'000);
    return result;
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const int events = argc > 1 ? std::max(1, QByteArray(argv[1]).toInt()) : 100;
    const testing::QuicIdentity id = testing::QuicIdentity::make();
    if (!id.server || !id.client) {
        std::fprintf(stderr, "%s\n", qPrintable(id.error));
        return 1;
    }
    sse::ServerSettings settings;
    settings.tls = id.tls->server;
    settings.http3 = id.server;
    settings.replayCapacity = 0;
    settings.http.maxConcurrentStreams = kStreamsEach;
    sse::SseServer server(settings);
    if (!server.start()) {
        std::fprintf(stderr, "%s\n", qPrintable(server.errorString()));
        return 1;
    }
    std::printf("%d connections x %d streams, %d events of 200 B each, loopback, no link\n", kConnections, kStreamsEach,
                events);
    for (const bool http3 : {false, true}) {
        const Result r = run(http3, server, id, events);
        std::printf("%-22s %10.0f deliveries/s%s   %.1f KB resident per idle stream\n",
                    http3 ? "HTTP/3 (QUIC, GnuTLS)" : "HTTP/2 (TLS, OpenSSL)", r.deliveriesPerSecond,
                    r.complete ? "" : " (incomplete)", r.kbPerIdleStream);
    }
    return 0;
}
