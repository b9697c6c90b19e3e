// Instances behind a balancer, run for real (origin or PoP instances, balancer, links,
// simulated browsers): each expectation is computed from the scenario text — how many
// streams, instances and clients it declares — never from the balancer's own arithmetic.
#include "simtesthelpers.h"

#include "core/routing/admission.h"
#include "core/sim/routingseries.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace edgesse;
using namespace std::chrono_literals;

namespace {

scenario::Variant variantFrom(const QByteArray &text)
{
    return simtest::firstVariantOf(text, QStringLiteral("routing.yaml"));
}

// One routed origin with `instances` servers; `count` browsers of one stream each.
QByteArray originScenario(int instances, const char *balance, int count, const QByteArray &extraLink = {},
                          const QByteArray &nodeExtra = {})
{
    return "name: routing\nseed: 7\nduration: 3s\nwarmup: 1s\narrival: 500ms\n"
           "nodes:\n  origin: { kind: origin, instances: " + QByteArray::number(instances) + ", balance: " + balance
        + nodeExtra + " }\n"
          "clients:\n  - { name: b, count: " + QByteArray::number(count) + ", near: origin }\n"
          "links:\n  - { between: [b, origin], latency: 2ms" + extraLink + " }\n"
          "publisher: { at: origin, rate: 20/s, payload: 64B }\nsse: { retry: 200ms }\n";
}

std::vector<double> channel(const metrics::VariantResult &r, const QString &name)
{
    const int c = r.timeSeries.channelIndex(name);
    return c < 0 ? std::vector<double>() : r.timeSeries.viewValues(c);
}

// Per-slot connections in every row of the series.
std::vector<std::vector<double>> perInstance(const metrics::VariantResult &r, const QString &node, int instances)
{
    std::vector<std::vector<double>> rows;
    std::vector<std::vector<double>> columns;
    for (int i = 0; i < instances; ++i)
        columns.push_back(channel(r, sim::RoutingSeries::instanceConnections(node, i)));
    for (std::size_t row = 0; !columns.empty() && row < columns.front().size(); ++row) {
        std::vector<double> values;
        for (const auto &column : columns)
            values.push_back(column[row]);
        if (std::none_of(values.begin(), values.end(), [](double v) { return std::isnan(v); }))
            rows.push_back(values);
    }
    return rows;
}

double total(const std::vector<double> &values)
{
    double sum = 0;
    for (double v : values)
        sum += std::isnan(v) ? 0 : v;
    return sum;
}

} // namespace

class TestRouting final : public QObject
{
    Q_OBJECT

private slots:
    void roundRobinSpreadsWithinOne_data();
    void roundRobinSpreadsWithinOne();
    void leastConnectionsStaysLevelUnderChurn();
    void hashKeepsClientsAcrossReconnects();
    void hashMovesOnlyTheFailedInstancesKeys();
    void originConnectionsFollowTheUpstreamMode_data();
    void originConnectionsFollowTheUpstreamMode();
    void admissionAdmitsTheBurstThenTheRate_data();
    void admissionAdmitsTheBurstThenTheRate();
};

void TestRouting::roundRobinSpreadsWithinOne_data()
{
    QTest::addColumn<int>("instances");
    QTest::addColumn<int>("streams");
    QTest::newRow("4 instances, 10 streams") << 4 << 10;
    QTest::newRow("3 instances, 9 streams") << 3 << 9;
    QTest::newRow("5 instances, 23 streams") << 5 << 23;
}

void TestRouting::roundRobinSpreadsWithinOne()
{
    QFETCH(int, instances);
    QFETCH(int, streams);
    RUN_VARIANT(r, variantFrom(originScenario(instances, "round-robin", streams)));
    const auto rows = perInstance(r, QStringLiteral("origin"), instances);
    QVERIFY(!rows.empty());
    const std::vector<double> &last = rows.back();
    QCOMPARE(total(last), double(streams));
    const double low = std::floor(double(streams) / instances), high = std::ceil(double(streams) / instances);
    for (double v : last) {
        QVERIFY2(v >= low && v <= high, qPrintable(QStringLiteral("an instance holds %1 of %2 streams over %3 instances")
                                                       .arg(v).arg(streams).arg(instances)));
    }
}

// Every connection is cut by the gateway after 600 ms and reopened after retry (200 ms):
// instances differ by at most one more than the streams between connections at that moment.
void TestRouting::leastConnectionsStaysLevelUnderChurn()
{
    constexpr int kInstances = 3, kStreams = 30;
    RUN_VARIANT(r, variantFrom(originScenario(kInstances, "least-connections", kStreams,
                                              ", gateway: { max_duration: 600ms }")));
    QVERIFY2(r.streams.reconnects >= std::uint64_t(kStreams), qPrintable(QString::number(r.streams.reconnects)));
    const auto rows = perInstance(r, QStringLiteral("origin"), kInstances);
    QVERIFY(rows.size() >= 20);
    int level = 0;
    for (const auto &row : rows) {
        const double spread = *std::max_element(row.begin(), row.end()) - *std::min_element(row.begin(), row.end());
        const double between = kStreams - total(row);
        QVERIFY2(spread <= 1 + std::max(between, 0.0),
                 qPrintable(QStringLiteral("spread %1 with %2 streams between connections").arg(spread).arg(between)));
        level += spread <= 1 ? 1 : 0;
    }
    qInfo("reconnects %llu; %d of %zu rows within one", static_cast<unsigned long long>(r.streams.reconnects), level, rows.size());
    QVERIFY2(level * 2 >= int(rows.size()), qPrintable(QStringLiteral("%1 of %2 rows level").arg(level).arg(rows.size())));
}

void TestRouting::hashKeepsClientsAcrossReconnects()
{
    constexpr int kStreams = 40;
    RUN_VARIANT(r, variantFrom(originScenario(4, "hash", kStreams, ", gateway: { max_duration: 700ms }")));
    QVERIFY2(r.streams.reconnects >= std::uint64_t(kStreams), qPrintable(QString::number(r.streams.reconnects)));
    QCOMPARE(total(channel(r, sim::RoutingSeries::moved(QStringLiteral("origin")))), 0.0);
}

// Instance 1 of 4 crashes at 2.5 s: its clients — and only they — reconnect elsewhere.
void TestRouting::hashMovesOnlyTheFailedInstancesKeys()
{
    constexpr int kInstances = 4, kStreams = 200;
    RUN_VARIANT(r, variantFrom(originScenario(kInstances, "hash", kStreams, {},
                                              ", faults: [{ at: 2500ms, action: crash, instance: 1 }]")));
    const auto rows = perInstance(r, QStringLiteral("origin"), kInstances);
    // The last row with every stream connected before the crash (1.5 s into the window).
    std::vector<double> before;
    for (std::size_t i = 0; i < rows.size() && i < 14; ++i)
        if (total(rows[i]) == kStreams)
            before = rows[i];
    QVERIFY(!before.empty());
    const double moved = total(channel(r, sim::RoutingSeries::moved(QStringLiteral("origin"))));
    qInfo("before the crash %g/%g/%g/%g; moved %g", before[0], before[1], before[2], before[3], moved);
    QCOMPARE(moved, before[1]);
    // About 1/N of the clients, within three standard deviations of a binomial draw.
    const double p = 1.0 / kInstances, sigma = std::sqrt(kStreams * p * (1 - p));
    QVERIFY2(std::abs(moved - kStreams * p) <= 3 * sigma, qPrintable(QString::number(moved)));
    const std::vector<double> &after = rows.back();
    QCOMPARE(after[1], 0.0);
    QCOMPARE(total(after), double(kStreams));
    for (int i : {0, 2, 3})
        QVERIFY(after[std::size_t(i)] >= before[std::size_t(i)]);
    QCOMPARE(r.events.lost, std::uint64_t(0)); // the origin's instances share the publisher's feed and replay
}

void TestRouting::originConnectionsFollowTheUpstreamMode_data()
{
    QTest::addColumn<QByteArray>("upstream");
    QTest::addColumn<int>("expected");
    constexpr int kInstances = 3, kListeners = 12;
    QTest::newRow("shared: one an instance") << QByteArray("shared") << kInstances;
    QTest::newRow("per-client: one a listener") << QByteArray("per-client") << kListeners;
}

void TestRouting::originConnectionsFollowTheUpstreamMode()
{
    QFETCH(QByteArray, upstream);
    QFETCH(int, expected);
    const QByteArray text = "name: upstreams\nseed: 3\nduration: 2s\nwarmup: 1s\narrival: 300ms\nplacement: edge\n"
                            "nodes:\n  origin: { kind: origin }\n"
                            "  pop: { kind: pop, instances: 3, balance: round-robin, upstream: " + upstream + " }\n"
                            "clients:\n  - { name: b, count: 12, near: pop }\n"
                            "links:\n  - { between: [b, pop], latency: 2ms }\n  - { between: [pop, origin], latency: 5ms }\n"
                            "publisher: { at: origin, rate: 10/s, payload: 64B }\n";
    RUN_VARIANT(r, variantFrom(text));
    qInfo("origin connections max %llu", static_cast<unsigned long long>(r.connections.byNodeMax.at(QStringLiteral("origin"))));
    QCOMPARE(r.connections.byNodeMax.at(QStringLiteral("origin")), std::uint64_t(expected));
    QCOMPARE(r.events.lost, std::uint64_t(0));
}

void TestRouting::admissionAdmitsTheBurstThenTheRate_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<int>("burst");
    QTest::addColumn<int>("arrivals");
    QTest::addColumn<int>("overMs");
    QTest::newRow("all at once") << 1000.0 << 50 << 400 << 0;
    QTest::newRow("storm over 40 ms") << 10000.0 << 500 << 2000 << 40;
    QTest::newRow("below the rate") << 4000.0 << 20 << 200 << 100;
}

// Arrivals evenly over `overMs`: a full bucket admits `burst`, then one a 1/rate; arrivals
// slower than the rate are all admitted.
void TestRouting::admissionAdmitsTheBurstThenTheRate()
{
    QFETCH(double, rate);
    QFETCH(int, burst);
    QFETCH(int, arrivals);
    QFETCH(int, overMs);
    routing::AdmissionBucket bucket(rate, burst);
    const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
    int admitted = 0;
    for (int i = 0; i < arrivals; ++i) {
        const auto at = t0 + std::chrono::microseconds(std::int64_t(1000.0 * overMs * i / arrivals));
        admitted += bucket.admit(at) ? 1 : 0;
    }
    const double refilled = rate * overMs / 1000.0 * double(arrivals - 1) / arrivals;
    const int expected = std::min(arrivals, int(burst + std::floor(refilled + 1e-9)));
    QVERIFY2(std::abs(admitted - expected) <= 1, qPrintable(QStringLiteral("%1 admitted, %2 expected").arg(admitted).arg(expected)));
    QVERIFY(!routing::AdmissionBucket().limited() && routing::AdmissionBucket().admit(t0));
}

QTEST_GUILESS_MAIN(TestRouting)
#include "tst_routing.moc"
