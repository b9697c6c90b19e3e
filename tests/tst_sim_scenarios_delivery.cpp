// The bundled scenarios, run short for real (servers, links, browsers on loopback), and the
// findings each one exists to show: checks 4-6 here (polling, edge-function limits, fan-out
// and caps), 1-3 in tst_scenarios_e2e.cpp.

#include "simtesthelpers.h"

#include <QTest>

#include <chrono>
#include <cmath>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace edgesse::simtest;

class TestSimScenariosDelivery final : public QObject
{
    Q_OBJECT

private slots:
    void pollingVersusSse();
    void edgeFunctionLimits();
    void fanoutAndConnectionCaps();
};

// 4. Polling's mean latency ≈ interval/2 + path; requests ≈ duration / interval a client;
//    SSE's latency ≈ path.
void TestSimScenariosDelivery::pollingVersusSse()
{
    const scenario::Scenario s = loadBundled(QStringLiteral("polling-vs-sse"));
    scenario::Variant sse = shrunk(variantNamed(s, QStringLiteral("sse")), 5, 1s, 6s);
    scenario::Variant poll = shrunk(variantNamed(s, QStringLiteral("poll-1s")), 5, 1s, 6s);
    poll.publisher.rate = sse.publisher.rate = 8; // more samples in a short run
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
    // ≈ the path: within max(2 ms, 5%) plus the link's configured jitter.
    const double ssePath = double(sse.pathLatency(sse.clients.front()).count()) / 1000.0;
    double jitter = 0;
    for (const auto &l : sse.links)
        jitter = std::max(jitter, double(l.jitter.count()) / 1000.0);
    QVERIFY2(std::abs(push.latency.p50 - ssePath) <= std::max(2.0, 0.05 * ssePath) + jitter,
             qPrintable(QStringLiteral("sse p50 %1 ms, path %2 ms").arg(push.latency.p50).arg(ssePath)));
}

// 5. Streams cut every max duration and resumed without loss while replay holds the gap.
void TestSimScenariosDelivery::edgeFunctionLimits()
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
void TestSimScenariosDelivery::fanoutAndConnectionCaps()
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
    // A twentieth of the audience and of every cap: New York's 6 browsers meet a PoP capped at 5.
    const scenario::Variant capped = scaledDown(variantNamed(s, QStringLiteral("edge-capped-pop")), 20, 1500ms, 2500ms);
    const scenario::Node *nyc = capped.node(QStringLiteral("pop-nyc"));
    QVERIFY(nyc && nyc->maxConnections == 5);

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
    QCOMPARE(cap.connections.byNodeMax.at(QStringLiteral("pop-nyc")), quint64(5));
    const metrics::GroupResult *newYork = group(cap, QStringLiteral("new-york"));
    QVERIFY(newYork && newYork->streams.reconnectsByCause.count(QStringLiteral("rejected")));
    QVERIFY(newYork->events.delivered > 0); // the browsers within the cap are served
}

QTEST_GUILESS_MAIN(TestSimScenariosDelivery)
#include "tst_sim_scenarios_delivery.moc"
