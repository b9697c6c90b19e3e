// The bundled scenarios, run short for real (servers, links, browsers on loopback), and the
// findings each one exists to show.

#include "simtesthelpers.h"

#include <QTest>

#include <chrono>
#include <cmath>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace edgesse::simtest;

class TestScenariosE2E final : public QObject
{
    Q_OBJECT

private slots:
    void edgeVersusCentral();
    void heartbeatVersusIdleTimeout();
    void http1VersusHttp2Starvation();
    void pollingVersusSse();
    void edgeFunctionLimits();
    void fanoutAndConnectionCaps();
};

// 1. p50 ≈ the path's configured one-way latency; edge's first event comes sooner; origin
//    connections: browsers (central HTTP/2), browsers × streams (central HTTP/1.1), PoPs (edge).
void TestScenariosE2E::edgeVersusCentral()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("edge-vs-central"));
    scenario::Variant central1 = shrunk(variantNamed(s, QStringLiteral("central")), 4, 2s, 3s);
    central1.protocol = scenario::Protocol::Http1;
    for (auto &g : central1.clients)
        g.streams = 2;
    scenario::Variant central2 = central1;
    central2.protocol = scenario::Protocol::Http2;
    scenario::Variant edge = shrunk(variantNamed(s, QStringLiteral("edge")), 4, 2s, 3s);

    qint64 browsers = 0, streams = 0;
    for (const auto &g : central1.clients) {
        browsers += g.count;
        streams += g.count * g.streams;
    }
    RUN_VARIANT(c1, central1);
    RUN_VARIANT(c2, central2);
    RUN_VARIANT(e, edge);

    for (const auto *pair : {&central1, &central2, &edge}) {
        const metrics::VariantResult &r = pair == &central1 ? c1 : (pair == &central2 ? c2 : e);
        for (const auto &config : pair->clients) {
            const metrics::GroupResult *g = group(r, config.name);
            QVERIFY(g);
            const double path = double(pair->pathLatency(config).count()) / 1000.0;
            const double tolerance = std::max(2.0, 0.05 * path);
            QVERIFY2(std::abs(g->latency.p50 - path) <= tolerance,
                     qPrintable(QStringLiteral("%1/%2: p50 %3 ms, path %4 ms")
                                    .arg(r.name, config.name).arg(g->latency.p50).arg(path)));
        }
        QVERIFY(r.events.delivered > 0);
    }
    QVERIFY2(e.timeToFirstEvent.p50 < c2.timeToFirstEvent.p50,
             qPrintable(QStringLiteral("edge %1 ms, central %2 ms").arg(e.timeToFirstEvent.p50).arg(c2.timeToFirstEvent.p50)));
    QCOMPARE(qint64(c2.connections.originMax), browsers);
    QCOMPARE(qint64(c1.connections.originMax), streams);
    qint64 pops = 0;
    for (const auto &n : edge.nodes)
        pops += n.kind == scenario::NodeKind::Pop ? 1 : 0;
    QCOMPARE(qint64(e.connections.originMax), pops);
}

// 2. Events slower than the gateway's idle timeout and no heartbeat: reconnects, and loss
//    without replay only; a heartbeat below the idle timeout keeps the stream; heartbeat bytes.
void TestScenariosE2E::heartbeatVersusIdleTimeout()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("heartbeat-vs-idle-timeout"));
    const scenario::Variant *off = nullptr;
    const scenario::Variant *fast = nullptr;
    for (const auto &v : s.variants) {
        if (!v.sse.heartbeat)
            off = &v;
        else if (!fast || *v.sse.heartbeat < *fast->sse.heartbeat)
            fast = &v;
    }
    QVERIFY(off && fast);
    // Short: an idle timeout of 750 ms, an event a second (still slower than the timeout),
    // retry 500 ms. A stream can only resume (Last-Event-ID) once it has received an event,
    // and the first reap comes before the first event: the warm-up covers that start, so
    // every measured event falls on a stream that holds an id.
    auto shorten = [](scenario::Variant v) {
        v = shrunk(std::move(v), 4, 2500ms, 4s);
        v.publisher.rate = 1;
        for (auto &l : v.links) {
            if (l.gateway)
                l.gateway->idleTimeout = 750ms;
        }
        v.sse.retry = 500ms;
        return v;
    };
    scenario::Variant noHeartbeatReplay = shorten(*off);
    scenario::Variant noHeartbeatNoReplay = noHeartbeatReplay;
    noHeartbeatNoReplay.sse.replay = 0;
    scenario::Variant heartbeat = shorten(*fast);
    heartbeat.sse.heartbeat = 250ms;

    RUN_VARIANT(withReplay, noHeartbeatReplay);
    RUN_VARIANT(withoutReplay, noHeartbeatNoReplay);
    RUN_VARIANT(beating, heartbeat);

    QVERIFY(withReplay.streams.reconnects > 0);
    QVERIFY(reconnectsBy(withReplay, QStringLiteral("idle_timeout")) > 0);
    QCOMPARE(withReplay.events.lost, quint64(0));
    QVERIFY(withoutReplay.streams.reconnects > 0);
    QVERIFY2(withoutReplay.events.lost > 0, qPrintable(QString::number(withoutReplay.events.expected)));
    QCOMPARE(beating.streams.reconnects, quint64(0));
    QCOMPARE(beating.events.lost, quint64(0));
    QVERIFY(beating.bytes.heartbeat > 0);
    QCOMPARE(withReplay.bytes.heartbeat, quint64(0));
}

// 3. Eight streams a browser: two starved per browser on HTTP/1.1, none on HTTP/2.
void TestScenariosE2E::http1VersusHttp2Starvation()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("http1-vs-http2"));
    for (const auto &original : s.variants) {
        scenario::Variant v = shrunk(original, 3, 1s, 2s);
        RUN_VARIANT(r, v);
        qint64 browsers = 0;
        for (const auto &g : v.clients) {
            QCOMPARE(g.streams, 8);
            browsers += g.count;
        }
        if (v.protocol == scenario::Protocol::Http1)
            QCOMPARE(qint64(r.streams.starved), 2 * browsers);
        else
            QCOMPARE(r.streams.starved, quint64(0));
    }
}

// 4. Polling's mean latency ≈ interval/2 + path; requests ≈ duration / interval a client;
//    SSE's latency ≈ path.
void TestScenariosE2E::pollingVersusSse()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("polling-vs-sse"));
    scenario::Variant sse = shrunk(variantNamed(s, QStringLiteral("sse")), 5, 1s, 6s);
    scenario::Variant poll = shrunk(variantNamed(s, QStringLiteral("poll-1s")), 5, 1s, 6s);
    poll.publisher.rate = 8; // more samples in a short run
    RUN_VARIANT(push, sse);
    RUN_VARIANT(polled, poll);

    const scenario::ClientGroup &g = poll.clients.front();
    const double path = double(poll.pathLatency(g).count()) / 1000.0;
    const double interval = double(g.pollInterval.count()) / 1000.0;
    const double expectedMean = interval / 2 + path;
    QVERIFY2(std::abs(polled.latency.mean - expectedMean) <= 0.15 * expectedMean,
             qPrintable(QStringLiteral("poll mean %1 ms, expected %2 ms").arg(polled.latency.mean).arg(expectedMean)));
    const double seconds = double((poll.warmup + poll.duration).count()) / 1e6;
    const double perClient = double(polled.requests) / double(g.count * g.streams);
    QVERIFY2(std::abs(perClient - seconds / (interval / 1000.0)) <= 0.15 * seconds / (interval / 1000.0) + 1,
             qPrintable(QStringLiteral("%1 requests a client in %2 s").arg(perClient).arg(seconds)));
    const double ssePath = double(sse.pathLatency(sse.clients.front()).count()) / 1000.0;
    QVERIFY2(std::abs(push.latency.p50 - ssePath) <= std::max(2.0, 0.05 * ssePath),
             qPrintable(QStringLiteral("sse p50 %1 ms, path %2 ms").arg(push.latency.p50).arg(ssePath)));
}

// 5. Streams cut every max duration and resumed without loss while replay holds the gap.
void TestScenariosE2E::edgeFunctionLimits()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("edge-function-limits"));
    auto shorten = [](scenario::Variant v) {
        v = shrunk(std::move(v), 5, 1s, 6s);
        for (auto &l : v.links) {
            if (l.gateway && l.gateway->maxDuration)
                l.gateway->maxDuration = 2s;
        }
        return v;
    };
    scenario::Variant limited = shorten(variantNamed(s, QStringLiteral("limited")));
    scenario::Variant noReplay = shorten(variantNamed(s, QStringLiteral("limited-no-replay")));
    RUN_VARIANT(r, limited);
    RUN_VARIANT(n, noReplay);
    QVERIFY(reconnectsBy(r, QStringLiteral("max_duration")) >= 2 * 5);
    QCOMPARE(r.events.lost, quint64(0));
    QVERIFY(r.events.delivered > 0);
    QVERIFY(n.streams.reconnects > 0);
    QVERIFY(n.events.lost > 0);
    QVERIFY(r.cost.has_value());
    QVERIFY(r.cost->run > 0);
}

// 6. Per-client upstreams put every client stream on the origin, shared ones one per PoP;
//    clients beyond a PoP's cap get 503 and retry.
void TestScenariosE2E::fanoutAndConnectionCaps()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("fanout-and-connection-caps"));
    auto shorten = [](scenario::Variant v) {
        v = shrunk(std::move(v), 6, 1500ms, 2s);
        for (auto &n : v.nodes)
            n.maxConnections = 0;
        return v;
    };
    scenario::Variant shared = shorten(variantNamed(s, QStringLiteral("edge-shared")));
    scenario::Variant perClient = shorten(variantNamed(s, QStringLiteral("edge-per-client")));
    scenario::Variant capped = shared;
    capped.nodes[1].maxConnections = 3; // the first PoP takes 3 of its 6 browsers

    RUN_VARIANT(sh, shared);
    RUN_VARIANT(pc, perClient);
    RUN_VARIANT(cap, capped);
    qint64 pops = 0;
    for (const auto &n : shared.nodes)
        pops += n.kind == scenario::NodeKind::Pop ? 1 : 0;
    QCOMPARE(qint64(sh.connections.originMax), pops);
    QCOMPARE(qint64(pc.connections.originMax), perClient.totalStreams());
    QVERIFY2(reconnectsBy(cap, QStringLiteral("rejected")) > 0,
             "browsers beyond the PoP's cap were not answered 503 and retried");
}

QTEST_GUILESS_MAIN(TestScenariosE2E)
#include "tst_scenarios_e2e.moc"
