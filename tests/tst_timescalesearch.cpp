// --time-scale auto without sockets: the search from what each calibration measured, and the
// calibration variant cut from the scenario's.

#include "core/sim/timescalesearch.h"

#include <QTest>

#include <chrono>

using namespace std::chrono_literals;
using edgesse::sim::TimeScaleSearch;

class TestTimeScaleSearch final : public QObject
{
    Q_OBJECT

private slots:
    void withinToleranceAtOnceStaysAtOne();
    void machineDelayFixedInWallTime_data();
    void machineDelayFixedInWallTime();
    void nothingMeasuredRunsAtOne();
    void givesUpAtTheLargestScale();
    void calibrationIsShort();
};

void TestTimeScaleSearch::withinToleranceAtOnceStaysAtOne()
{
    TimeScaleSearch search(1.0);
    QCOMPARE(search.next(), 1.0);
    search.measured(1, 500, 0.6);
    QVERIFY(search.decided());
    QCOMPARE(search.chosen(), 1.0);
    QVERIFY(search.reason().contains(QStringLiteral("x1: 0.600 ms")));
}

void TestTimeScaleSearch::machineDelayFixedInWallTime_data()
{
    QTest::addColumn<double>("wallErrorMs"); // the machine's delay p99, the same at every scale
    QTest::addColumn<double>("toleranceMs");
    QTest::addColumn<double>("smallestGood");
    QTest::newRow("8 ms, 1 ms tolerance") << 8.0 << 1.0 << 8.0;
    QTest::newRow("48 ms, 1 ms tolerance") << 48.0 << 1.0 << 48.0;
    QTest::newRow("3 ms, 0.5 ms tolerance") << 3.0 << 0.5 << 6.0;
}

// Error in modelled time is the wall error / scale: the search ends at a scale within the
// tolerance, no more than its margin above the smallest such scale, in two calibrations.
void TestTimeScaleSearch::machineDelayFixedInWallTime()
{
    QFETCH(double, wallErrorMs);
    QFETCH(double, toleranceMs);
    QFETCH(double, smallestGood);
    TimeScaleSearch search(toleranceMs);
    int runs = 0;
    while (!search.decided()) {
        const double scale = search.next();
        search.measured(scale, 1000, wallErrorMs / scale);
        ++runs;
    }
    QCOMPARE(runs, 2);
    QVERIFY(wallErrorMs / search.chosen() <= toleranceMs);
    QVERIFY(search.chosen() >= smallestGood);
    QVERIFY(search.chosen() <= std::ceil(smallestGood * TimeScaleSearch::kMargin));
}

void TestTimeScaleSearch::nothingMeasuredRunsAtOne()
{
    TimeScaleSearch search(1.0);
    search.measured(1, 0, 0);
    QVERIFY(search.decided());
    QCOMPARE(search.chosen(), 1.0);
    QVERIFY(search.reason().contains(QStringLiteral("no event's error")));
}

void TestTimeScaleSearch::givesUpAtTheLargestScale()
{
    TimeScaleSearch search(1.0);
    while (!search.decided())
        search.measured(search.next(), 100, 5000.0); // never better, whatever the scale
    QVERIFY(search.chosen() <= TimeScaleSearch::kMaxScale);
    QVERIFY(search.chosen() > 1);
    QVERIFY(search.reason().contains(QStringLiteral("above the 1 ms tolerance")));
}

void TestTimeScaleSearch::calibrationIsShort()
{
    edgesse::scenario::Variant v;
    v.duration = 30s;
    v.warmup = 5s;
    v.arrival = 4s;
    const edgesse::scenario::Variant c = edgesse::sim::calibrationVariant(v);
    QCOMPARE(c.duration, std::chrono::microseconds(2s));
    QCOMPARE(c.warmup, std::chrono::microseconds(2s));
    QCOMPARE(c.arrival, std::optional<std::chrono::microseconds>(2s));
    v.duration = 1s;
    QCOMPARE(edgesse::sim::calibrationVariant(v).duration, std::chrono::microseconds(1s));
}

QTEST_GUILESS_MAIN(TestTimeScaleSearch)
#include "tst_timescalesearch.moc"
