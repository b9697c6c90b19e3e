// Links in whole runs: bandwidth shared the way lines are shared.

#include "simtesthelpers.h"

#include <QTest>

#include <chrono>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace edgesse::simtest;

namespace {

// One browser, four HTTP/1.1 streams (four connections) over a 10 Mbit/s access line, one
// 64 KB event a second.
const char *const kFourStreams = R"(name: four streams on one line
seed: 7
duration: 3s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-central }
clients:
  - { name: home, count: 1, near: origin, streams: 4 }
links:
  - { between: [home, origin], latency: 10ms, bandwidth: 10Mbps }
publisher: { at: origin, rate: 1/s, payload: 64KB }
sse: { heartbeat: 15s }
variants:
  - { name: http1, placement: central, protocol: http1 }
)";

} // namespace

class TestSimLinks final : public QObject
{
    Q_OBJECT

private slots:
    void browserConnectionsShareTheAccessLine();
};

void TestSimLinks::browserConnectionsShareTheAccessLine()
{
    const scenario::LoadResult loaded = scenario::loadFromText(kFourStreams, QStringLiteral("four-streams.yaml"));
    QVERIFY(loaded.ok());
    RUN_VARIANT(r, loaded.scenario->variants.front());
    // 64 KB (65,536 B of data plus its SSE framing) takes 52.4 ms on 10 Mbit/s; four copies
    // share the line, so the last stream's copy lands about four serialisation times (plus
    // 10 ms) after publishing, not one.
    const double serialisationMs = 65536 * 8.0 / 10e6 * 1e3;
    qInfo("latency p50 %.1f ms, max %.1f ms; one serialisation %.1f ms", r.latency.p50, r.latency.max, serialisationMs);
    QVERIFY(r.events.delivered >= 8);
    QCOMPARE(r.events.lost, std::uint64_t{0});
    QVERIFY2(r.latency.max >= 10 + 3.5 * serialisationMs && r.latency.max <= 10 + 5.5 * serialisationMs,
             qPrintable(QString::number(r.latency.max)));
}

QTEST_GUILESS_MAIN(TestSimLinks)
#include "tst_sim_links.moc"
