// Whole runs through links: overhead (measured latency minus the configured one-way path
// latency) at 4,000 HTTP/1.1 streams and 20,000 HTTP/2 streams, and the set-up and
// tear-down time of a 2,000-stream topology.
//   build/release/tests/bench/bench_runs [--quick]

#include "core/scenario/scenario.h"
#include "core/net/fdlimit.h"
#include "core/sim/run.h"

#include <QCoreApplication>

#include <chrono>
#include <cstdio>
#include <cstring>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

scenario::Variant topology(const char *name, scenario::Protocol protocol, qint64 browsers, int streams,
                           std::chrono::microseconds duration)
{
    scenario::Variant v;
    v.name = QString::fromLatin1(name);
    v.placement = scenario::Placement::Central;
    v.protocol = protocol;
    scenario::Node origin;
    origin.name = QStringLiteral("origin");
    origin.kind = scenario::NodeKind::Origin;
    v.nodes = {origin};
    scenario::ClientGroup group;
    group.name = QStringLiteral("clients");
    group.count = browsers;
    group.near = origin.name;
    group.streams = streams;
    v.clients = {group};
    scenario::Link l;
    l.a = group.name;
    l.b = origin.name;
    l.latency = 20ms;
    v.links = {l};
    v.publisher.at = origin.name;
    v.publisher.rate = 2; // every event goes to every stream: 8,000 deliveries a second at 4,000 streams
    v.publisher.payloadBytes = 100;
    v.sse.heartbeat = std::nullopt;
    v.sse.maxConcurrentStreams = std::max(100, streams);
    v.warmup = 3s;
    v.duration = duration;
    v.seed = 1;
    return v;
}

bool runOne(const scenario::Variant &v)
{
    sim::Run::Settings settings;
    settings.keepStreamRows = false;
    sim::Run run(v, settings);
    QString error;
    QObject::connect(&run, &sim::Run::failed, &run, [&](const QString &reason) { error = reason; }, Qt::DirectConnection);
    run.start();
    run.wait();
    if (!error.isEmpty()) {
        std::printf("%-28s failed: %s\n", qPrintable(v.name), qPrintable(error));
        return false;
    }
    const metrics::VariantResult r = run.result();
    const auto t = run.timings();
    std::printf("%-28s streams %6lld  descriptors %6llu/%-6llu  delivered %9llu/%-9llu  latency p50 %7.2f ms  "
                "overhead p50 %6.3f p99 %7.3f max %7.3f ms  set-up %5.0f ms (all streams open %5.0f ms)  "
                "tear-down %5.0f ms\n",
                qPrintable(v.name), static_cast<long long>(v.totalStreams()),
                static_cast<unsigned long long>(v.descriptorsNeeded()),
                static_cast<unsigned long long>(net::currentFdLimit().soft),
                static_cast<unsigned long long>(r.events.delivered), static_cast<unsigned long long>(r.events.expected),
                r.latency.p50, r.overhead.p50, r.overhead.p99, r.overhead.max, double(t.setUp.count()) / 1000.0,
                double(t.allOpen.count()) / 1000.0, double(t.tearDown.count()) / 1000.0);
    std::fflush(stdout);
    return true;
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const auto duration = quick ? 3s : 10s;
    bool ok = true;
    ok &= runOne(topology("2000 streams (set-up/down)", scenario::Protocol::Http1, 2000, 1, 2s));
    // Overhead grows with the fan-out: one event is written to every stream's connection,
    // read and re-sent by the link proxy and read by the browser, all on this machine.
    if (!quick) {
        ok &= runOne(topology("500 streams HTTP/1.1", scenario::Protocol::Http1, 500, 1, duration));
        ok &= runOne(topology("1000 streams HTTP/1.1", scenario::Protocol::Http1, 1000, 1, duration));
    }
    ok &= runOne(topology("4000 streams HTTP/1.1", scenario::Protocol::Http1, 4000, 1, duration));
    if (!quick)
        ok &= runOne(topology("20000 streams HTTP/2", scenario::Protocol::Http2, 200, 100, duration));
    // One connection a stream: four descriptors each through a link, beyond this machine's
    // limit — the run refuses up front, naming what it needs.
    const bool refused = !runOne(topology("20000 streams HTTP/1.1", scenario::Protocol::Http1, 20000, 1, 1s));
    std::printf("%-28s %s\n", "", refused ? "(refused as expected)" : "(ran: the descriptor limit is high enough here)");
    return ok ? 0 : 1;
}
