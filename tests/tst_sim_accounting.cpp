// Every count, byte and duration over the measured window only, with expectations computed
// from the scenario (its YAML), not from the engine: requests per poller, connection-hours,
// heartbeat bytes, audiences turned away at a cap, a fault inside the warm-up, time to first
// event with browsers arriving over the warm-up.

#include "simtesthelpers.h"

#include "core/sim/timescale.h"
#include "core/sim/topologyparts.h"
#include "core/sse/sseserver.h"

#include <QTest>

#include <chrono>
#include <cmath>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace edgesse::simtest;

namespace {

double secondsOf(std::chrono::microseconds d)
{
    return double(d.count()) / 1e6;
}

scenario::Variant fromText(const char *yaml, const QString &variant)
{
    const scenario::LoadResult loaded = scenario::loadFromText(QByteArray(yaml), QStringLiteral("inline.yaml"));
    if (!loaded.ok()) {
        for (const auto &d : loaded.diagnostics)
            qWarning("%s", qPrintable(d.toString()));
        qFatal("inline scenario does not load");
    }
    return variantNamed(*loaded.scenario, variant);
}

// One origin, 6 browsers 20 ms away arriving in the first 200 ms; heartbeats every 700 ms;
// a link fault inside the warm-up.
constexpr const char *kSmall = R"(
name: Accounting
seed: 11
duration: 4s
warmup: 2500ms
arrival: 200ms
nodes:
  origin: { kind: origin, region: eu-west }
clients:
  - { name: near, count: 6, near: origin }
links:
  - { between: [near, origin], latency: 20ms, jitter: 1ms, faults: [{ at: 600ms, down_for: 400ms }] }
publisher: { at: origin, rate: 10/s, payload: 100B }
sse: { heartbeat: 700ms, retry: 200ms, replay: 0 }
pricing:
  currency: USD
  per_connection_hour: 1.0
variants:
  - { name: sse }
)";

// SSE browsers and short pollers 30 ms from the origin, for a run at two time scales.
constexpr const char *kDilation = R"(
name: Dilation
seed: 5
duration: 3s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-west }
clients:
  - { name: sse, count: 4, near: origin }
  - { name: pollers, count: 2, near: origin, delivery: poll, poll_interval: 500ms }
links:
  - { between: [sse, origin], latency: 30ms, jitter: 5ms }
  - { between: [pollers, origin], latency: 30ms }
publisher: { at: origin, rate: 10/s, payload: 100B }
sse: { heartbeat: 1s, retry: 500ms }
pricing:
  currency: USD
  per_connection_hour: 1.0
variants:
  - { name: mixed }
)";

// Browsers 20 ms from the origin, or 8 ms from a PoP 25 ms from it, on jittery links: the
// jitter is the model's, so the error (the machine's share) stays well below it.
constexpr const char *kErrorProbe = R"(
name: Error probe
seed: 3
duration: 3s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-west }
  pop: { kind: pop, region: eu-central }
clients:
  - { name: near, count: 8, near: origin }
  - { name: edge, count: 8, near: pop }
links:
  - { between: [near, origin], latency: 20ms, jitter: 6ms }
  - { between: [edge, pop], latency: 8ms, jitter: 3ms }
  - { between: [pop, origin], latency: 25ms, jitter: 4ms }
  - { between: [edge, origin], latency: 33ms, jitter: 5ms }
publisher: { at: origin, rate: 20/s, payload: 200B }
sse: { heartbeat: 1s, retry: 500ms }
variants:
  - { name: central-h1, placement: central, protocol: http1 }
  - { name: edge-h1, placement: edge, protocol: http1 }
  - { name: edge-h2, placement: edge, protocol: http2 }
)";

metrics::VariantResult runWith(const scenario::Variant &v, sim::Run::Settings settings)
{
    const double scale = settings.timeScale;
    sim::Run run(v, settings);
    bool done = false;
    QObject::connect(&run, &sim::Run::finished, &run, [&] { done = true; }, Qt::DirectConnection);
    run.start();
    run.wait();
    if (!done)
        qFatal("the run at time scale %f did not finish", scale);
    return run.result();
}

metrics::VariantResult runScaled(const scenario::Variant &v, double scale)
{
    sim::Run::Settings settings;
    settings.timeScale = scale;
    return runWith(v, settings);
}

} // namespace

class TestSimAccounting final : public QObject
{
    Q_OBJECT

private slots:
    void pollRequestsAreDurationOverInterval_data();
    void pollRequestsAreDurationOverInterval();
    void connectionHoursAndHeartbeatsCoverTheWindow();
    void aWarmUpFaultCreatesNoLoss();
    void aCappedPopReportsWhomItTurnedAway();
    void firstEventTimesAreADistribution();
    void perClientLatencyIsItsOwnPath();
    void aDilatedRunModelsTheSameWorld();
    void theErrorSeesALateHop_data();
    void theErrorSeesALateHop();
    void engineTimersStretchWithTheScale();
};

void TestSimAccounting::pollRequestsAreDurationOverInterval_data()
{
    QTest::addColumn<QString>("variant");
    QTest::newRow("poll-1s") << QStringLiteral("poll-1s");
    QTest::newRow("poll-5s") << QStringLiteral("poll-5s");
}

// requests = duration / interval per poller, ±1: warm-up and drain polls are not counted.
void TestSimAccounting::pollRequestsAreDurationOverInterval()
{
    QFETCH(QString, variant);
    const scenario::Scenario s = loadBundled(QStringLiteral("polling-vs-sse"));
    const scenario::Variant v = shrunk(variantNamed(s, variant), 4, 2s, 10s);
    RUN_VARIANT(r, v);
    const scenario::ClientGroup &g = v.clients.front();
    const double pollers = double(g.count * g.streams);
    const double expected = secondsOf(v.duration) / secondsOf(g.pollInterval) * pollers;
    QVERIFY2(std::abs(double(r.requests) - expected) <= pollers,
             qPrintable(QStringLiteral("%1 requests, expected %2 ± %3").arg(r.requests).arg(expected).arg(pollers)));
}

// connection-hours = streams × measured duration; heartbeat bytes = streams ×
// floor(duration / heartbeat) × the comment's size (": heartbeat" and its blank line, 13 B),
// one tick more at most, as the window's edges fall between ticks.
void TestSimAccounting::connectionHoursAndHeartbeatsCoverTheWindow()
{
    const scenario::Variant v = fromText(kSmall, QStringLiteral("sse"));
    RUN_VARIANT(r, v);
    const double streams = double(v.totalStreams());
    const double hours = streams * secondsOf(v.duration) / 3600.0;
    QVERIFY(r.cost.has_value());
    const double billed = r.cost->breakdown.at(QStringLiteral("connection_hours")); // 1 USD an hour
    QVERIFY2(std::abs(billed - hours) <= 0.01 * hours,
             qPrintable(QStringLiteral("%1 connection-hours, expected %2").arg(billed).arg(hours)));
    QVERIFY(qFuzzyCompare(r.cost->perHour, billed * 3600.0 / secondsOf(v.duration)));
    constexpr double kCommentBytes = 13; // ": heartbeat\n\n"
    const double ticks = std::floor(secondsOf(v.duration) / secondsOf(*v.sse.heartbeat));
    const double low = streams * ticks * kCommentBytes;
    const double high = streams * (ticks + 1) * kCommentBytes;
    QVERIFY2(double(r.bytes.heartbeat) >= low && double(r.bytes.heartbeat) <= high,
             qPrintable(QStringLiteral("%1 heartbeat bytes, expected %2..%3").arg(r.bytes.heartbeat).arg(low).arg(high)));
}

// The link is down 600-1000 ms into a 2.5 s warm-up with no replay: the hole is the warm-up's.
void TestSimAccounting::aWarmUpFaultCreatesNoLoss()
{
    const scenario::Variant v = fromText(kSmall, QStringLiteral("sse"));
    RUN_VARIANT(r, v);
    QVERIFY2(r.streams.reconnects >= std::uint64_t(v.totalStreams()), "the fault did not cut the streams");
    QCOMPARE(r.events.lost, quint64(0));
    QCOMPARE(r.events.expected, r.events.published * quint64(v.totalStreams()));
    QCOMPARE(r.latency.count, r.events.delivered);
}

// New York's 30 browsers (a quarter of the bundled audience) meet a PoP capped at 25 (a
// quarter of its cap): 5 streams are rejected for the whole run, and every event published
// in the window is lost to each of them.
void TestSimAccounting::aCappedPopReportsWhomItTurnedAway()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("fanout-and-connection-caps"));
    scenario::Variant v = scaledDown(variantNamed(s, QStringLiteral("edge-capped-pop")), 4, 2s, 3s);
    const scenario::Node *nyc = v.node(QStringLiteral("pop-nyc"));
    const scenario::ClientGroup *audience = v.clientGroup(QStringLiteral("new-york"));
    QVERIFY(nyc && audience);
    const auto turnedAway = std::uint64_t(audience->count * audience->streams - nyc->maxConnections);
    QCOMPARE(turnedAway, quint64(5));
    RUN_VARIANT(r, v);
    const metrics::GroupResult *newYork = group(r, QStringLiteral("new-york"));
    QVERIFY(newYork);
    QCOMPARE(newYork->streams.rejected, turnedAway);
    QCOMPARE(newYork->streams.neverServed, turnedAway);
    QCOMPARE(newYork->events.lostByCause.at(QStringLiteral("rejected")), turnedAway * r.events.published);
    QCOMPARE(r.connections.byNodeMax.at(QStringLiteral("pop-nyc")), quint64(nyc->maxConnections));
    QVERIFY(r.connections.rejectedByNode.at(QStringLiteral("pop-nyc")) >= turnedAway);
}

// Browsers arrive over the warm-up, each in its own publisher phase: the edge's time to
// first event is the access link's handshake + the request to the PoP and the event back +
// a wait for the next event at the PoP (uniform over the period): its median within half a
// period of the middle of that range, and spread.
void TestSimAccounting::firstEventTimesAreADistribution()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("edge-vs-central"));
    const scenario::Variant v = shrunk(variantNamed(s, QStringLiteral("edge")), 10, 2s, 2s);
    RUN_VARIANT(r, v);
    for (const auto &g : v.clients) {
        const QStringList path = v.path(g);
        const scenario::Link *access = v.linkBetween(g.name, path[1]);
        QVERIFY(access);
        // Connect (and TLS) over the access link, the request to the PoP and the event back.
        const double handshakeAndPath =
            double(access->handshake().count()) / 1000.0 + 2.0 * double(access->latency.count()) / 1000.0;
        const double halfPeriod = 500.0 / v.publisher.rate;
        const metrics::GroupResult *result = group(r, g.name);
        QVERIFY(result && result->timeToFirstEvent.count > 0);
        const double p50 = result->timeToFirstEvent.p50;
        QVERIFY2(std::abs(p50 - (handshakeAndPath + halfPeriod)) <= halfPeriod,
                 qPrintable(QStringLiteral("%1: TTFE p50 %2 ms, handshake + path %3 ms, half a period %4 ms")
                                .arg(g.name).arg(p50).arg(handshakeAndPath).arg(halfPeriod)));
    }
    QVERIFY(r.timeToFirstEvent.max > r.timeToFirstEvent.p50); // a distribution, not one sample
}

// A per-client PoP: each browser's stream has its own upstream copy, so its latency is one
// draw of the path — the links' latencies plus symmetric (uniform) jitter — whose median is
// the sum of the configured latencies. Relaying the fastest of N copies would put the median
// near the sum minus the upstream jitter.
void TestSimAccounting::perClientLatencyIsItsOwnPath()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("edge-function-limits"));
    const scenario::Variant v = shrunk(variantNamed(s, QStringLiteral("unlimited")), 20, 2s, 3s);
    const scenario::Link *access = v.linkBetween(QStringLiteral("sydney"), QStringLiteral("pop-syd"));
    const scenario::Link *upstream = v.linkBetween(QStringLiteral("pop-syd"), QStringLiteral("origin"));
    QVERIFY(access && upstream);
    QCOMPARE(access->jitterDistribution, scenario::JitterDistribution::Uniform);
    QCOMPARE(upstream->jitterDistribution, scenario::JitterDistribution::Uniform);
    const double pathMs = double((access->latency + upstream->latency).count()) / 1000.0;
    const double upstreamJitterMs = double(upstream->jitter.count()) / 1000.0;
    RUN_VARIANT(r, v);
    const metrics::GroupResult *sydney = group(r, QStringLiteral("sydney"));
    QVERIFY(sydney && sydney->latency.count > 0);
    // The median of 20 streams x 12 events has a standard error of about 0.2 ms; the fastest
    // of 20 copies would be about 0.9 x the upstream jitter (3.6 ms) below the path.
    constexpr double kMedianSlackMs = 0.5;
    QVERIFY2(sydney->latency.p50 >= pathMs - kMedianSlackMs,
             qPrintable(QStringLiteral("latency p50 %1 ms on a %2 ms path (upstream jitter %3 ms)")
                            .arg(sydney->latency.p50).arg(pathMs).arg(upstreamJitterMs)));
}

// The same variant at time scale 1 and 3: in modelled time, the SSE latency median is the
// path's 30 ms at both (within 1 ms, the trust tolerance), the pollers make duration /
// interval requests each (±1), connection-hours are streams × the modelled duration, and
// the run took three times the wall time.
void TestSimAccounting::aDilatedRunModelsTheSameWorld()
{
    const scenario::Variant v = fromText(kDilation, QStringLiteral("mixed"));
    constexpr double kScale = 3;
    constexpr double kToleranceMs = 1.0;
    const metrics::VariantResult one = runScaled(v, 1);
    const metrics::VariantResult slow = runScaled(v, kScale);
    QCOMPARE(slow.timeScale, kScale);
    QVERIFY2(std::abs(slow.wallS - kScale * secondsOf(v.duration)) <= 0.05 * kScale * secondsOf(v.duration),
             qPrintable(QStringLiteral("wall %1 s").arg(slow.wallS)));
    QVERIFY(std::abs(slow.durationS - secondsOf(v.duration)) <= 0.05 * secondsOf(v.duration));
    const scenario::Link *access = v.linkBetween(QStringLiteral("sse"), QStringLiteral("origin"));
    QVERIFY(access);
    const double pathMs = double(access->latency.count()) / 1000.0;
    const metrics::GroupResult *sseOne = group(one, QStringLiteral("sse"));
    const metrics::GroupResult *sseSlow = group(slow, QStringLiteral("sse"));
    QVERIFY(sseOne && sseSlow && sseOne->latency.count > 0 && sseSlow->latency.count > 0);
    qInfo("latency p50 %.3f ms at scale 1, %.3f ms at scale %.0f, path %.1f ms", sseOne->latency.p50,
          sseSlow->latency.p50, kScale, pathMs);
    // Dilated, the machine's own share shrinks three times: the median is within the 1 ms
    // tolerance of the path, and of the median at scale 1 (which carries the machine's full share).
    QVERIFY2(std::abs(sseSlow->latency.p50 - pathMs) <= kToleranceMs,
             qPrintable(QStringLiteral("scale 3: p50 %1 ms on a %2 ms path").arg(sseSlow->latency.p50).arg(pathMs)));
    QVERIFY2(std::abs(sseSlow->latency.p50 - sseOne->latency.p50) <= kToleranceMs + one.overhead.p50,
             qPrintable(QStringLiteral("p50 %1 ms at scale 3, %2 ms at scale 1 (overhead p50 %3 ms)")
                            .arg(sseSlow->latency.p50).arg(sseOne->latency.p50).arg(one.overhead.p50)));
    QCOMPARE(one.events.lost, quint64(0));
    QCOMPARE(slow.events.lost, quint64(0));
    const scenario::ClientGroup *pollers = v.clientGroup(QStringLiteral("pollers"));
    QVERIFY(pollers);
    const double pollRequests = double(pollers->count) * secondsOf(v.duration) / secondsOf(pollers->pollInterval);
    const metrics::GroupResult *polled = group(slow, QStringLiteral("pollers"));
    QVERIFY(polled);
    const double sseStreams = double(v.clientGroup(QStringLiteral("sse"))->count);
    // Requests: the pollers' plus one per SSE stream opened before or in the window at most.
    QVERIFY2(std::abs(double(slow.requests) - double(one.requests)) <= double(pollers->count) + sseStreams,
             qPrintable(QStringLiteral("requests %1 at scale 3, %2 at scale 1 (pollers alone %3)")
                            .arg(slow.requests).arg(one.requests).arg(pollRequests)));
    QVERIFY(double(slow.requests) >= pollRequests - double(pollers->count));
    QVERIFY(slow.cost && one.cost);
    const double hours = double(v.totalStreams()) * secondsOf(v.duration) / 3600.0;
    for (const metrics::VariantResult *r : {&one, &slow}) {
        const double billed = r->cost->breakdown.at(QStringLiteral("connection_hours"));
        QVERIFY2(std::abs(billed - hours) <= 0.02 * hours,
                 qPrintable(QStringLiteral("scale %1: %2 connection-hours, expected %3").arg(r->timeScale).arg(billed).arg(hours)));
    }
}


void TestSimAccounting::theErrorSeesALateHop_data()
{
    QTest::addColumn<QString>("variant");
    QTest::addColumn<QString>("group");
    QTest::newRow("central http1") << QStringLiteral("central-h1") << QStringLiteral("near");
    QTest::newRow("edge http1") << QStringLiteral("edge-h1") << QStringLiteral("edge");
    QTest::newRow("edge http2") << QStringLiteral("edge-h2") << QStringLiteral("edge");
}

// Every delivered event's error is measured (none unmatched on cleartext), the jitter the
// scenario asks for is not counted as error, and when every access link writes its bytes
// 3 ms after their release the error moves by 3 ms (±50 µs).
void TestSimAccounting::theErrorSeesALateHop()
{
    QFETCH(QString, variant);
    QFETCH(QString, group);
    const scenario::Variant v = fromText(kErrorProbe, variant);
    constexpr auto kLate = 3ms;
    constexpr double kLateMs = 3.0;
    constexpr double kExactMs = 0.050;
    sim::Run::Settings settings;
    const metrics::VariantResult onTime = runWith(v, settings);
    settings.lateAccessLinks = kLate;
    const metrics::VariantResult late = runWith(v, settings);
    const metrics::GroupResult *a = simtest::group(onTime, group);
    const metrics::GroupResult *b = simtest::group(late, group);
    QVERIFY(a && b);
    qInfo("%s: error p50 %.3f p99 %.3f max %.3f ms on time, p50 %.3f p99 %.3f ms late; overhead p99 %.3f ms; "
          "%llu measured, %llu unmatched",
          qPrintable(variant), a->error.percentiles.p50, a->error.percentiles.p99, a->error.percentiles.max,
          b->error.percentiles.p50, b->error.percentiles.p99, onTime.overhead.p99,
          static_cast<unsigned long long>(a->error.percentiles.count), static_cast<unsigned long long>(a->error.unmatched));
    QCOMPARE(a->error.unmatched, quint64(0));
    QCOMPARE(a->error.percentiles.count, a->latency.count);
    QVERIFY(a->error.trusted.has_value());
    // The links' jitter (3-6 ms per hop) is the model's: the overhead carries it, the error
    // does not. Compared at the error's median, which a moment of the machine's own delay
    // (it reaches the error's p99) does not move.
    QVERIFY2(a->error.percentiles.p50 < 1.0 && onTime.overhead.p99 > a->error.percentiles.p50 + 2.0,
             qPrintable(QStringLiteral("overhead p99 %1, error p50 %2").arg(onTime.overhead.p99).arg(a->error.percentiles.p50)));
    // Compared at the quickest event of each run (the least error: the machine's own delay
    // at its smallest), so the other programs on the machine add nothing to either side.
    const double moved = b->error.minMs - a->error.minMs;
    qInfo("least error %.3f ms on time, %.3f ms late", a->error.minMs, b->error.minMs);
    QVERIFY2(std::abs(moved - kLateMs) <= kExactMs,
             qPrintable(QStringLiteral("a hop late by %1 ms moved the least error by %2 ms").arg(kLateMs).arg(moved)));
}

// A dilated run's own timers are the modelled world's too: the servers' first-request,
// head and keep-alive idle timeouts (10 s, 10 s, 60 s by default), a long poll's hold (the
// scenario's long_poll_timeout) and an application's reconnect backoff all take N times
// as long at scale N.
void TestSimAccounting::engineTimersStretchWithTheScale()
{
    constexpr const char *kTimers = R"(
name: Timers
duration: 2s
warmup: 1s
nodes:
  origin: { kind: origin, region: eu-west }
clients:
  - { name: held, count: 2, near: origin, delivery: long-poll, long_poll_timeout: 7s }
  - { name: apps, count: 2, near: origin, reconnect: { backoff: exponential, base: 250ms, max: 4s } }
links:
  - { between: [held, origin], latency: 10ms }
  - { between: [apps, origin], latency: 10ms }
publisher: { at: origin, rate: 1/s, payload: 10B }
sse: { retry: 1s }
variants:
  - { name: v }
)";
    const scenario::Variant v = fromText(kTimers, QStringLiteral("v"));
    constexpr double kScale = 20;
    const scenario::Variant slow = sim::dilated(v, kScale);
    QCOMPARE(slow.timeScale, kScale);
    const sse::ServerSettings one = sim::serverSettings(v, *v.origin());
    const sse::ServerSettings scaled = sim::serverSettings(slow, *slow.origin());
    QCOMPARE(one.http.requestTimeout, std::chrono::milliseconds(10s));
    QCOMPARE(one.http.idleTimeout, std::chrono::milliseconds(60s));
    QCOMPARE(one.longPollTimeout, std::chrono::milliseconds(7s));
    QCOMPARE(scaled.http.requestTimeout, std::chrono::milliseconds(200s));
    QCOMPARE(scaled.http.headerTimeout, std::chrono::milliseconds(200s));
    QCOMPARE(scaled.http.idleTimeout, std::chrono::milliseconds(1200s));
    QCOMPARE(scaled.longPollTimeout, std::chrono::milliseconds(140s));
    QCOMPARE(scaled.heartbeat.has_value(), one.heartbeat.has_value());
    QCOMPARE(scaled.retry, std::optional<std::chrono::milliseconds>(20s));
    const scenario::ClientGroup *apps = slow.clientGroup(QStringLiteral("apps"));
    QVERIFY(apps && apps->reconnect && apps->reconnect->base);
    QCOMPARE(*apps->reconnect->base, std::chrono::microseconds(5s));
    QCOMPARE(apps->reconnect->max, std::chrono::microseconds(80s));
}

QTEST_GUILESS_MAIN(TestSimAccounting)
#include "tst_sim_accounting.moc"
