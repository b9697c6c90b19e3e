#include "core/link/noreorderfloor.h"
#include "core/link/propagation.h"

#include <QTest>

using namespace std::chrono_literals;
using edgesse::link::JitterDistribution;
using edgesse::link::Nanos;
using edgesse::link::NoReorderFloor;
using edgesse::link::Propagation;
using edgesse::link::TimePoint;

class TestPropagation final : public QObject
{
    Q_OBJECT

private slots:
    void releaseTimesWithinJitter_data();
    void releaseTimesWithinJitter();
    void sameSeedSameDelays();
    void neverNegative();
    void floorNeverReorders();
};

void TestPropagation::releaseTimesWithinJitter_data()
{
    QTest::addColumn<JitterDistribution>("distribution");
    QTest::addColumn<double>("lowMs");
    QTest::addColumn<double>("highMs");
    QTest::addColumn<double>("meanMs");
    // 20 ms +- 5 ms: uniform and normal centred on 20 ms; Pareto one-sided, mean 0.91 x jitter.
    QTest::newRow("uniform") << JitterDistribution::Uniform << 15.0 << 25.0 << 20.0;
    QTest::newRow("normal") << JitterDistribution::Normal << 15.0 << 25.0 << 20.0;
    QTest::newRow("pareto") << JitterDistribution::Pareto << 20.0 << 70.0 << 24.55;
}

void TestPropagation::releaseTimesWithinJitter()
{
    QFETCH(JitterDistribution, distribution);
    QFETCH(double, lowMs);
    QFETCH(double, highMs);
    QFETCH(double, meanMs);
    Propagation propagation(20ms, distribution, 5ms, 7);
    double sum = 0;
    constexpr int kDraws = 20000;
    for (int i = 0; i < kDraws; ++i) {
        const double d = std::chrono::duration<double, std::milli>(propagation.next()).count();
        QVERIFY2(d >= lowMs - 1e-6 && d <= highMs + 1e-6, qPrintable(QString::number(d)));
        sum += d;
    }
    QVERIFY2(std::abs(sum / kDraws - meanMs) < 0.25, qPrintable(QString::number(sum / kDraws)));
}

void TestPropagation::sameSeedSameDelays()
{
    Propagation a(20ms, JitterDistribution::Uniform, 5ms, 99);
    Propagation b(20ms, JitterDistribution::Uniform, 5ms, 99);
    Propagation c(20ms, JitterDistribution::Uniform, 5ms, 100);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const Nanos x = a.next();
        QCOMPARE(x, b.next());
        differs = differs || x != c.next();
    }
    QVERIFY(differs);
}

void TestPropagation::neverNegative()
{
    Propagation p(1ms, JitterDistribution::Uniform, 5ms, 3);
    for (int i = 0; i < 1000; ++i)
        QVERIFY(p.next() >= Nanos{0});
}

void TestPropagation::floorNeverReorders()
{
    // Bytes sent 1 ms apart with delays drawn in +-5 ms: released in sending order, each at
    // its own time or, when an earlier byte drew more, right behind that one.
    Propagation propagation(20ms, JitterDistribution::Uniform, 5ms, 11);
    NoReorderFloor floor;
    const TimePoint t0 = TimePoint{} + 1h;
    TimePoint previous{};
    TimePoint latestOwn{};
    for (int i = 0; i < 1000; ++i) {
        const TimePoint own = t0 + i * 1ms + propagation.next();
        const TimePoint release = floor.apply(own);
        QVERIFY(release >= previous);
        latestOwn = std::max(latestOwn, own);
        QCOMPARE(release, latestOwn);
        previous = release;
    }
}

QTEST_GUILESS_MAIN(TestPropagation)
#include "tst_propagation.moc"
