// The bundled scenarios, run short for real (servers, links, browsers on loopback), and the
// findings each one exists to show: checks 1-3 here, 4-6 in tst_sim_scenarios_delivery.cpp.

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
};

// 1. p50 ≈ the path's configured one-way latency; edge's first event comes sooner; origin
//    connections: browsers (central HTTP/2), browsers × streams (central HTTP/1.1), PoPs (edge).
void TestScenariosE2E::edgeVersusCentral()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("edge-vs-central"));
    scenario::Variant central1 = shrunk(variantNamed(s, QStringLiteral("central")), 4, 2s, 3s);
    scenario::Variant central2 = shrunk(variantNamed(s, QStringLiteral("central-h2")), 4, 2s, 3s);
    QCOMPARE(central1.protocol, scenario::Protocol::Http1);
    QCOMPARE(central2.protocol, scenario::Protocol::Http2);
    // Two streams a page, so connections per stream and per browser differ.
    for (auto *v : {&central1, &central2}) {
        for (auto &g : v->clients)
            g.streams = 2;
    }
    scenario::Variant edge = shrunk(variantNamed(s, QStringLiteral("edge")), 4, 2s, 3s);
    // Frequent events, so the wait for the first one after subscribing stays small.
    central1.publisher.rate = central2.publisher.rate = edge.publisher.rate = 50;

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
    // Time to first event: a central browser pays the handshake with the origin and its
    // request's trip there before it is subscribed; an edge browser only the nearby PoP's
    // (whose upstream is already open). Then both wait for the next event (browsers arrive
    // over the warm-up, in every publisher phase) and it comes back over the same hop. The
    // difference is about the handshake difference plus twice the one-way difference.
    for (const auto &config : edge.clients) {
        const scenario::Link *direct = central2.linkBetween(config.name, central2.origin()->name);
        const scenario::Link *lastMile = edge.linkBetween(config.name, config.near);
        QVERIFY(direct && lastMile);
        const double expected =
            double((direct->handshake() + 2 * direct->latency - lastMile->handshake() - 2 * lastMile->latency).count()) / 1000.0;
        const metrics::GroupResult *centralGroup = group(c2, config.name);
        const metrics::GroupResult *edgeGroup = group(e, config.name);
        QVERIFY(centralGroup && edgeGroup);
        const double measured = centralGroup->timeToFirstEvent.p50 - edgeGroup->timeToFirstEvent.p50;
        QVERIFY2(std::abs(measured - expected) <= std::max(30.0, 0.25 * expected),
                 qPrintable(QStringLiteral("%1: central's first event %2 ms later than edge's, expected about %3 ms")
                                .arg(config.name).arg(measured).arg(expected)));
    }
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
    // Short: the gateway's idle timeout down from 5 s to 750 ms, the heartbeat scaled with
    // it (2 s → 300 ms, still below the timeout), an event a second (still slower than the
    // timeout), retry 500 ms. A stream can only resume (Last-Event-ID) once it has received
    // an event, and its first reap comes before its first event: the warm-up covers that
    // start, so every measured event falls on a stream that holds an id.
    constexpr double kScale = 0.15;
    auto shorten = [&](scenario::Variant v) {
        v = shrunk(std::move(v), 4, 2500ms, 4s);
        v.publisher.rate = 1;
        for (auto &l : v.links) {
            if (l.gateway && l.gateway->idleTimeout)
                l.gateway->idleTimeout = std::chrono::microseconds(std::llround(double(l.gateway->idleTimeout->count()) * kScale));
        }
        if (v.sse.heartbeat)
            v.sse.heartbeat = std::chrono::microseconds(std::llround(double(v.sse.heartbeat->count()) * kScale));
        v.sse.retry = 500ms;
        return v;
    };
    const scenario::Variant noHeartbeatReplay = shorten(variantNamed(s, QStringLiteral("replay:heartbeat=off")));
    const scenario::Variant noHeartbeatNoReplay = shorten(variantNamed(s, QStringLiteral("no-replay")));
    const scenario::Variant heartbeat = shorten(variantNamed(s, QStringLiteral("replay:heartbeat=2s")));
    QVERIFY(!noHeartbeatReplay.sse.heartbeat && !noHeartbeatNoReplay.sse.heartbeat);
    QVERIFY(noHeartbeatReplay.sse.replay > 0);
    QCOMPARE(noHeartbeatNoReplay.sse.replay, 0);
    QVERIFY(heartbeat.sse.heartbeat && *heartbeat.sse.heartbeat < 750ms);

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

QTEST_GUILESS_MAIN(TestScenariosE2E)
#include "tst_scenarios_e2e.moc"
