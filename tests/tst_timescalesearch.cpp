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
    void dilatedCalibrationBoundedInWallTime_data();
    void dilatedCalibrationBoundedInWallTime();
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

void TestTimeScaleSearch::dilatedCalibrationBoundedInWallTime_data()
{
    QTest::addColumn<qint64>("streams");
    QTest::addColumn<double>("scale");
    QTest::addColumn<int>("warmupMs");
    QTest::addColumn<int>("durationMs");
    // 2 events/s. Warm-up: 4 s / scale of wall time, at least 250 ms. Measured: as long, or the
    // ceil(1,000 / streams) periods of 500 ms if longer. Both within an undilated calibration's 2 s.
    QTest::newRow("1000 streams x100: 1 period") << qint64(1000) << 100.0 << 250 << 500;
    QTest::newRow("400 streams x100: 3 periods") << qint64(400) << 100.0 << 250 << 1500;
    QTest::newRow("20000 streams x4: 1 s of wall time") << qint64(20000) << 4.0 << 1000 << 1000;
    QTest::newRow("20000 streams x1000: 1 period") << qint64(20000) << 1000.0 << 250 << 500;
    QTest::newRow("10 streams x50: 2 s cap") << qint64(10) << 50.0 << 250 << 2000;
    QTest::newRow("20000 streams x1: not cut") << qint64(20000) << 1.0 << 2000 << 2000;
}

void TestTimeScaleSearch::dilatedCalibrationBoundedInWallTime()
{
    QFETCH(qint64, streams);
    QFETCH(double, scale);
    QFETCH(int, warmupMs);
    QFETCH(int, durationMs);
    edgesse::scenario::Variant v;
    v.duration = 30s;
    v.warmup = 5s;
    v.publisher.rate = 2;
    edgesse::scenario::ClientGroup group;
    group.count = streams;
    v.clients = {group};
    const edgesse::scenario::Variant c = edgesse::sim::calibrationVariant(v, scale);
    QCOMPARE(c.warmup, std::chrono::microseconds(std::chrono::milliseconds(warmupMs)));
    QCOMPARE(c.duration, std::chrono::microseconds(std::chrono::milliseconds(durationMs)));
}

QTEST_GUILESS_MAIN(TestTimeScaleSearch)
#include "tst_timescalesearch.moc"
