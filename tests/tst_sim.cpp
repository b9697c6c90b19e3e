#include "core/sim/publishschedule.h"
#include "core/sim/streamaccount.h"

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
    void accountCountsLossAndDuplicates_data();
    void accountCountsLossAndDuplicates();
    void accountExpectsNothingBeforeSubscription();
    void accountIncludesEventsDeliveredBeforeTheSubscriptionNotice();
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

void TestSim::accountCountsLossAndDuplicates_data()
{
    QTest::addColumn<quint64>("publishedBefore");
    QTest::addColumn<QList<quint64>>("received");
    QTest::addColumn<quint64>("lastPublished");
    QTest::addColumn<quint64>("expected");
    QTest::addColumn<quint64>("delivered");
    QTest::addColumn<quint64>("duplicated");

    QTest::newRow("all delivered") << quint64(0) << QList<quint64>{1, 2, 3, 4} << quint64(4) << quint64(4) << quint64(4) << quint64(0);
    QTest::newRow("gap lost") << quint64(0) << QList<quint64>{1, 2, 5, 6} << quint64(6) << quint64(6) << quint64(4) << quint64(0);
    QTest::newRow("late subscriber") << quint64(10) << QList<quint64>{11, 12} << quint64(13) << quint64(3) << quint64(2) << quint64(0);
    QTest::newRow("duplicate replay") << quint64(0) << QList<quint64>{1, 2, 3, 2, 3, 4} << quint64(4) << quint64(4) << quint64(4) << quint64(2);
    QTest::newRow("never received") << quint64(5) << QList<quint64>{} << quint64(9) << quint64(4) << quint64(0) << quint64(0);
    QTest::newRow("many words") << quint64(100) << QList<quint64>{101, 200, 300, 400} << quint64(400) << quint64(300) << quint64(4) << quint64(0);
}

void TestSim::accountCountsLossAndDuplicates()
{
    QFETCH(quint64, publishedBefore);
    QFETCH(QList<quint64>, received);
    QFETCH(quint64, lastPublished);
    QFETCH(quint64, expected);
    QFETCH(quint64, delivered);
    QFETCH(quint64, duplicated);

    StreamAccount account;
    account.subscribed(publishedBefore);
    for (quint64 seq : received)
        account.received(seq);
    const auto tally = account.tally(lastPublished);
    QVERIFY(tally.subscribed);
    QCOMPARE(tally.expected, expected);
    QCOMPARE(tally.delivered, delivered);
    QCOMPARE(tally.duplicated, duplicated);
    QCOMPARE(tally.delivered + tally.lost, tally.expected);
}

void TestSim::accountExpectsNothingBeforeSubscription()
{
    StreamAccount account;
    const auto tally = account.tally(50);
    QVERIFY(!tally.subscribed);
    QCOMPARE(tally.expected, quint64(0));
    QCOMPARE(tally.lost, quint64(0));
}

void TestSim::accountIncludesEventsDeliveredBeforeTheSubscriptionNotice()
{
    // The server registered the stream and sent event 7 before the client saw its response.
    StreamAccount account;
    account.received(7);
    account.subscribed(7);
    account.received(8);
    const auto tally = account.tally(8);
    QCOMPARE(tally.expected, quint64(2));
    QCOMPARE(tally.delivered, quint64(2));
    QCOMPARE(tally.lost, quint64(0));
}

QTEST_GUILESS_MAIN(TestSim)
#include "tst_sim.moc"
