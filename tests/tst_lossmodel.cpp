#include "core/link/lossmodel.h"

#include <QTest>

using edgesse::link::LinkSettings;
using edgesse::link::LossModel;
using edgesse::link::LossPattern;

class TestLossModel final : public QObject
{
    Q_OBJECT

private slots:
    void rateAndRunLength_data();
    void rateAndRunLength();
    void noLossNeverDrops();
};

void TestLossModel::rateAndRunLength_data()
{
    QTest::addColumn<LossPattern>("pattern");
    QTest::addColumn<double>("probability");
    QTest::addColumn<double>("burst");
    QTest::addColumn<double>("expectedRun");
    // Independent losses run 1 / (1 - p) long on average; bursts `burst` long.
    QTest::newRow("independent 1%") << LossPattern::Independent << 0.01 << 1.0 << 1.0 / 0.99;
    QTest::newRow("independent 10%") << LossPattern::Independent << 0.10 << 1.0 << 1.0 / 0.9;
    QTest::newRow("burst 1%, 4") << LossPattern::Burst << 0.01 << 4.0 << 4.0;
    QTest::newRow("burst 5%, 2") << LossPattern::Burst << 0.05 << 2.0 << 2.0;
}

void TestLossModel::rateAndRunLength()
{
    QFETCH(LossPattern, pattern);
    QFETCH(double, probability);
    QFETCH(double, burst);
    QFETCH(double, expectedRun);
    LinkSettings s;
    s.lossProbability = probability;
    s.lossPattern = pattern;
    s.burstLength = burst;
    LossModel model(s, 5);
    constexpr int kSegments = 2'000'000;
    int lost = 0;
    int runs = 0;
    bool previous = false;
    for (int i = 0; i < kSegments; ++i) {
        const bool l = model.lost();
        lost += l ? 1 : 0;
        runs += l && !previous ? 1 : 0;
        previous = l;
    }
    const double rate = static_cast<double>(lost) / kSegments;
    const double run = static_cast<double>(lost) / runs;
    QVERIFY2(std::abs(rate - probability) < 0.1 * probability, qPrintable(QString::number(rate)));
    QVERIFY2(std::abs(run - expectedRun) < 0.1 * expectedRun, qPrintable(QString::number(run)));
}

void TestLossModel::noLossNeverDrops()
{
    LinkSettings s;
    LossModel model(s, 1);
    for (int i = 0; i < 1000; ++i)
        QVERIFY(!model.lost());
}

QTEST_GUILESS_MAIN(TestLossModel)
#include "tst_lossmodel.moc"
