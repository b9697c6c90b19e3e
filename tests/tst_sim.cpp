#include "core/sim/publishschedule.h"
#include "core/scenario/scenario.h"
#include "core/sim/cost.h"
#include "core/sim/publishlog.h"

#include <QTest>

#include <chrono>
#include <numeric>

using namespace std::chrono_literals;
using namespace edgesse::sim;

class TestSim final : public QObject
{
    Q_OBJECT

private slots:
    void constantScheduleHasEqualGaps();
    void poissonScheduleHasTheMeanRateAndIsSeeded();
    void burstyScheduleKeepsTheMeanRate();
    void payloadHasTheRequestedSize();
    void publishLogKnowsRecentEventsOnly();
    void costAppliesThePriceList();
};

void TestSim::constantScheduleHasEqualGaps()
{
    PublishSchedule schedule({PublishPattern::Constant, 20, 10, 1});
    for (int i = 0; i < 10; ++i)
        QCOMPARE(schedule.nextGap(), std::chrono::nanoseconds(50ms));
}

void TestSim::poissonScheduleHasTheMeanRateAndIsSeeded()
{
    PublishSchedule a({PublishPattern::Poisson, 100, 10, 7});
    PublishSchedule b({PublishPattern::Poisson, 100, 10, 7});
    PublishSchedule c({PublishPattern::Poisson, 100, 10, 8});
    std::chrono::nanoseconds total{0};
    bool differs = false;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        const auto gap = a.nextGap();
        QCOMPARE(b.nextGap(), gap);
        differs = differs || c.nextGap() != gap;
        total += gap;
    }
    QVERIFY(differs);
    const double meanMs = std::chrono::duration<double, std::milli>(total).count() / n;
    QVERIFY2(meanMs > 9.5 && meanMs < 10.5, qPrintable(QString::number(meanMs)));
}

void TestSim::burstyScheduleKeepsTheMeanRate()
{
    PublishSchedule schedule({PublishPattern::Bursty, 10, 5, 1});
    QCOMPARE(schedule.nextGap(), std::chrono::nanoseconds(500ms));
    for (int i = 0; i < 4; ++i)
        QCOMPARE(schedule.nextGap(), std::chrono::nanoseconds(0));
    QCOMPARE(schedule.nextGap(), std::chrono::nanoseconds(500ms));
}

void TestSim::payloadHasTheRequestedSize()
{
    QCOMPARE(payloadOfSize(256).size(), 256);
    QCOMPARE(payloadOfSize(0).size(), 0);
    const QByteArray p = payloadOfSize(4096);
    QVERIFY(!p.contains('\n') && !p.contains('\r'));
}

void TestSim::publishLogKnowsRecentEventsOnly()
{
    PublishLog log(8);
    const auto t0 = PublishLog::Clock::now();
    QCOMPARE(log.published(), quint64(0));
    QVERIFY(!log.publishedAt(1));
    for (std::uint64_t seq = 1; seq <= 10; ++seq)
        log.record(seq, t0 + std::chrono::milliseconds(seq));
    QCOMPARE(log.published(), quint64(10));
    QCOMPARE(*log.publishedAt(10), t0 + 10ms);
    QCOMPARE(*log.publishedAt(3), t0 + 3ms);
    QVERIFY(!log.publishedAt(2)); // overwritten by event 10 in a ring of 8
}

void TestSim::costAppliesThePriceList()
{
    edgesse::scenario::Pricing pricing;
    pricing.perMillionRequests = 0.60;
    pricing.perGbEgress = 0.09;
    pricing.perConnectionHour = 0.01;
    pricing.perGbSecond = 0.0000166667;
    pricing.memoryBytes = 512LL * 1024 * 1024;
    Usage usage;
    usage.requests = 2'000'000;
    usage.egressBytes = 10'000'000'000ULL;
    usage.connectionSeconds = 7200;
    usage.executionSeconds = 1000;
    usage.runSeconds = 60;
    const auto cost = estimateCost(pricing, usage);
    QCOMPARE(cost.currency, QStringLiteral("USD"));
    QVERIFY(qFuzzyCompare(cost.breakdown.at(QStringLiteral("requests")), 1.2));
    QVERIFY(qFuzzyCompare(cost.breakdown.at(QStringLiteral("egress")), 0.9));
    QVERIFY(qFuzzyCompare(cost.breakdown.at(QStringLiteral("connection_hours")), 0.02));
    QVERIFY(qFuzzyCompare(cost.breakdown.at(QStringLiteral("gb_seconds")), 1000 * 0.5 * 0.0000166667));
    QVERIFY(qFuzzyCompare(cost.run, 1.2 + 0.9 + 0.02 + 1000 * 0.5 * 0.0000166667));
    QVERIFY(qFuzzyCompare(cost.perHour, cost.run * 60));
}

QTEST_GUILESS_MAIN(TestSim)
#include "tst_sim.moc"
