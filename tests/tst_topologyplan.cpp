// The plan of a run and its drain, without a socket: what runs where, with which seeds,
// and when a run stops waiting for the last events.

#include "core/scenario/scenario.h"
#include "core/sim/drainpolicy.h"
#include "core/sim/topologyplan.h"
#include "core/util/random.h"

#include <QTest>

#include <chrono>
#include <set>

using namespace std::chrono_literals;
using namespace edgesse;
using namespace Qt::StringLiterals;

namespace {

scenario::Scenario loadFile(const QString &path)
{
    const auto loaded = scenario::load(path);
    if (!loaded.ok())
        qFatal("%s does not load", qPrintable(path));
    return *loaded.scenario;
}

scenario::Scenario tiny()
{
    return loadFile(QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/tiny.yaml"));
}

scenario::Variant variantOf(const scenario::Scenario &s, const QString &name)
{
    const scenario::Variant *v = s.variant(name);
    if (!v)
        qFatal("no variant %s", qPrintable(name));
    return *v;
}

sim::TopologyPlan planOf(const scenario::Variant &v, int threads, bool clients = true)
{
    QString error;
    auto plan = sim::planTopology(v, threads, clients, &error);
    if (!plan)
        qFatal("no plan: %s", qPrintable(error));
    return *plan;
}

QStringList linkNames(const sim::TopologyPlan &plan)
{
    QStringList names;
    for (const auto &l : plan.links)
        names << l.name;
    return names;
}

} // namespace

class TestTopologyPlan final : public QObject
{
    Q_OBJECT

private slots:
    void nodesAndLinksFollowThePaths_data();
    void nodesAndLinksFollowThePaths();
    void threadsAreRoundRobinAfterTheOrigin();
    void browsersAreSpreadAndSeededOnePerBrowser();
    void serveModePlansNoBrowsers();
    void seedsDependOnTheVariantSeedOnly();
    void missingPiecesAreNamed_data();
    void missingPiecesAreNamed();
    void drainPolicyFromTheScenario();
    void drainStepsOnAFakeClock_data();
    void drainStepsOnAFakeClock();
    void derivedSeedIsSplitMix64();
};

void TestTopologyPlan::nodesAndLinksFollowThePaths_data()
{
    QTest::addColumn<QString>("variant");
    QTest::addColumn<QStringList>("nodes");
    QTest::addColumn<QStringList>("links");
    QTest::newRow("central") << u"central"_s << QStringList{u"origin"_s} << QStringList{u"berlin->origin"_s};
    QTest::newRow("edge") << u"edge"_s << QStringList{u"origin"_s, u"pop-fra"_s}
                          << QStringList{u"pop-fra->origin"_s, u"berlin->pop-fra"_s};
}

void TestTopologyPlan::nodesAndLinksFollowThePaths()
{
    QFETCH(QString, variant);
    QFETCH(QStringList, nodes);
    QFETCH(QStringList, links);
    const scenario::Scenario s = tiny();
    const scenario::Variant v = variantOf(s, variant);
    const sim::TopologyPlan plan = planOf(v, 2);
    QStringList nodeNames;
    for (const auto &n : plan.nodes)
        nodeNames << n.name;
    QCOMPARE(nodeNames, nodes);
    QVERIFY(plan.nodes.front().origin);
    QCOMPARE(linkNames(plan), links);
    QCOMPARE(plan.groups.size(), std::size_t(1));
    const auto &group = plan.groups.front();
    QCOMPARE(plan.links[std::size_t(group.link)].group, 0);
    QCOMPARE(plan.links[std::size_t(group.link)].to, group.node);
    // The tiny scenario's paths: 5 + 10 ms through the PoP, 15 ms direct.
    QCOMPARE(group.pathLatency, 15ms);
    for (const auto &l : plan.links)
        QCOMPARE(plan.nodes[std::size_t(l.target)].name, l.to);
    for (const auto &n : plan.nodes) {
        if (!n.origin)
            QCOMPARE(plan.links[std::size_t(n.upstreamLink)].name, n.name + u"->origin"_s);
    }
}

void TestTopologyPlan::threadsAreRoundRobinAfterTheOrigin()
{
    const scenario::Scenario s = tiny();
    const scenario::Variant v = variantOf(s, QStringLiteral("edge"));
    // Origin on 0; the PoP, then its upstream link, then the access link take 1, 2, 0.
    const sim::TopologyPlan three = planOf(v, 3);
    QCOMPARE(three.nodes[0].thread, 0);
    QCOMPARE(three.nodes[1].thread, 1);
    QCOMPARE(three.links[0].thread, 2);
    QCOMPARE(three.links[1].thread, 0);
    QCOMPARE(three.publisherThread, 0);
    const sim::TopologyPlan one = planOf(v, 1);
    for (const auto &l : one.links)
        QCOMPARE(l.thread, 0);
    QCOMPARE(planOf(v, 0).threadCount, 1); // never fewer than one
}

void TestTopologyPlan::browsersAreSpreadAndSeededOnePerBrowser()
{
    const scenario::Scenario s = tiny();
    const scenario::Variant v = variantOf(s, QStringLiteral("central"));
    const sim::TopologyPlan plan = planOf(v, 3);
    QCOMPARE(plan.browsers.size(), std::size_t(3));
    QCOMPARE(plan.browserCount(), std::size_t(8));
    // 8 browsers round-robin over 3 threads: 3, 3, 2.
    QCOMPARE(plan.browsers[0].size(), std::size_t(3));
    QCOMPARE(plan.browsers[1].size(), std::size_t(3));
    QCOMPARE(plan.browsers[2].size(), std::size_t(2));
    std::set<std::uint64_t> seeds;
    std::set<int> indexes;
    for (const auto &onThread : plan.browsers) {
        for (const auto &b : onThread) {
            seeds.insert(b.seed);
            indexes.insert(b.index);
            QCOMPARE(b.node, QStringLiteral("origin"));
            QCOMPARE(b.retry, 1000ms);
            QCOMPARE(b.port, quint16(0)); // the live topology's to fill in
        }
    }
    QCOMPARE(seeds.size(), std::size_t(8));
    QCOMPARE(indexes, (std::set<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

void TestTopologyPlan::serveModePlansNoBrowsers()
{
    const scenario::Scenario s = tiny();
    const sim::TopologyPlan plan = planOf(variantOf(s, QStringLiteral("edge")), 2, false);
    QCOMPARE(plan.browserCount(), std::size_t(0));
    QCOMPARE(plan.links.size(), std::size_t(2)); // links are still up for the user's own clients
}

void TestTopologyPlan::seedsDependOnTheVariantSeedOnly()
{
    const scenario::Scenario s = tiny();
    scenario::Variant v = variantOf(s, QStringLiteral("edge"));
    const sim::TopologyPlan a = planOf(v, 2);
    const sim::TopologyPlan b = planOf(v, 4);
    QCOMPARE(a.publisher.seed, b.publisher.seed);
    QCOMPARE(a.links[0].settings.seed, b.links[0].settings.seed);
    QVERIFY(a.links[0].settings.seed != a.links[1].settings.seed);
    v.seed += 1;
    const sim::TopologyPlan c = planOf(v, 2);
    QVERIFY(c.publisher.seed != a.publisher.seed);
    QVERIFY(c.links[0].settings.seed != a.links[0].settings.seed);
}

void TestTopologyPlan::missingPiecesAreNamed_data()
{
    QTest::addColumn<QString>("breakage");
    QTest::addColumn<QString>("message");
    QTest::newRow("no origin") << u"origin"_s << u"the publisher is not attached to an origin node"_s;
    QTest::newRow("no access link") << u"link"_s << u"no link between berlin and pop-fra"_s;
}

void TestTopologyPlan::missingPiecesAreNamed()
{
    QFETCH(QString, breakage);
    QFETCH(QString, message);
    const scenario::Scenario s = tiny();
    scenario::Variant v = variantOf(s, QStringLiteral("edge"));
    if (breakage == u"origin")
        v.publisher.at = QStringLiteral("nowhere");
    else
        v.links.erase(v.links.begin());
    QString error;
    QVERIFY(!sim::planTopology(v, 2, true, &error));
    QCOMPARE(error, message);
}

void TestTopologyPlan::drainPolicyFromTheScenario()
{
    const scenario::Scenario s = tiny();
    const scenario::Variant v = variantOf(s, QStringLiteral("central"));
    const sim::DrainPolicy policy = sim::DrainPolicy::forVariant(v);
    // Slowest path 15 ms: max(200 ms, 3 × 15 + 100) = 200 ms; cap 200 ms + 1.3 × 1 s retry + 4 × 15 ms + 1 s.
    QCOMPARE(policy.quiet, std::chrono::steady_clock::duration(200ms));
    QCOMPARE(policy.cap, std::chrono::steady_clock::duration(200ms + 1300ms + 60ms + 1s));
}

void TestTopologyPlan::drainStepsOnAFakeClock_data()
{
    // Each step: at (ms after the publisher stopped), streams reconnecting, delivered so far;
    // expected: carry on, and the next wake-up (ms) when it does.
    QTest::addColumn<QList<QList<int>>>("steps");
    QTest::newRow("quiet: stops at the first look")
        << QList<QList<int>>{{200, 0, 10, 0, 0}};
    QTest::newRow("arrivals: 50 ms more each time")
        << QList<QList<int>>{{200, 0, 12, 1, 250}, {250, 0, 15, 1, 300}, {300, 0, 15, 0, 0}};
    QTest::newRow("reconnecting: looks every 20 ms, then a whole quiet period")
        << QList<QList<int>>{{200, 2, 10, 1, 220}, {220, 1, 10, 1, 240}, {240, 0, 10, 1, 440}, {440, 0, 10, 0, 0}};
    QTest::newRow("the cap ends it whatever arrives")
        << QList<QList<int>>{{200, 0, 11, 1, 250}, {1000, 3, 11, 0, 0}};
}

void TestTopologyPlan::drainStepsOnAFakeClock()
{
    QFETCH(QList<QList<int>>, steps);
    sim::DrainPolicy policy;
    policy.quiet = 200ms;
    policy.cap = 1000ms;
    const auto t0 = std::chrono::steady_clock::time_point(1h);
    sim::Drain drain(policy, t0, 10);
    QCOMPARE(drain.wakeAt(), t0 + 200ms);
    for (const auto &step : steps) {
        const bool carryOn = drain.next(t0 + std::chrono::milliseconds(step[0]), step[1], std::uint64_t(step[2]));
        QCOMPARE(carryOn, step[3] == 1);
        if (carryOn)
            QCOMPARE(drain.wakeAt(), t0 + std::chrono::milliseconds(step[4]));
    }
}

void TestTopologyPlan::derivedSeedIsSplitMix64()
{
    // The first output of splitmix64 seeded with 0 (the published reference sequence).
    std::uint64_t state = 0;
    QCOMPARE(util::splitMix64(state), 0xE220A8397B1DCDAFULL);
    QCOMPARE(util::derivedSeed(0, 0), 0xE220A8397B1DCDAFULL);
    QVERIFY(util::derivedSeed(42, 1) != util::derivedSeed(42, 2));
    std::uint64_t unit = 7;
    for (int i = 0; i < 1000; ++i) {
        const double x = util::unitInterval(unit);
        QVERIFY(x >= 0.0 && x < 1.0);
    }
}

QTEST_GUILESS_MAIN(TestTopologyPlan)
#include "tst_topologyplan.moc"
