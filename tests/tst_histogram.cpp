#include "core/metrics/latencyhistogram.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

using edgesse::metrics::LatencyHistogram;
using edgesse::metrics::SparseLatencyHistogram;
using edgesse::metrics::LatencyRecorder;
using edgesse::metrics::ShardedLatency;
namespace buckets = edgesse::metrics::buckets;

class TestHistogram final : public QObject
{
    Q_OBJECT

private slots:
    void bucketLayoutIsContiguous();
    void bucketsAreWithinOnePercent();
    void percentilesMatchExactValues_data();
    void percentilesMatchExactValues();
    void smallValuesAreExact();
    void emptyHistogram();
    void mergeEqualsRecordingEverything();
    void sinceGivesTheWindow();
    void valuesBeyondTheRangeKeepExactMax();
    void cdfIsMonotonicAndEndsAtOne();
    void recorderSnapshotWhileRecording_data();
    void recorderSnapshotWhileRecording();
    void shardedRecordersMerge();
};

void TestHistogram::bucketLayoutIsContiguous()
{
    QCOMPARE(buckets::indexOf(0), std::size_t{0});
    for (std::size_t i = 0; i + 1 < buckets::kCount; ++i) {
        QCOMPARE(buckets::upperBound(i) + 1, buckets::lowerBound(i + 1));
        QCOMPARE(buckets::indexOf(buckets::lowerBound(i)), i);
        QCOMPARE(buckets::indexOf(buckets::upperBound(i)), i);
    }
    QCOMPARE(buckets::upperBound(buckets::kCount - 1), buckets::kMaxTrackable);
    // An hour, in µs, is comfortably inside the range.
    QVERIFY(buckets::kMaxTrackable > 3'600'000'000ULL * 10);
}

void TestHistogram::bucketsAreWithinOnePercent()
{
    for (std::size_t i = 0; i < buckets::kCount; ++i) {
        const double lo = double(buckets::lowerBound(i));
        const double width = double(buckets::upperBound(i) - buckets::lowerBound(i));
        if (lo > 0)
            QVERIFY2(width / lo <= 1.0 / 128 + 1e-12, qPrintable(QString::number(i)));
    }
}

void TestHistogram::percentilesMatchExactValues_data()
{
    QTest::addColumn<QString>("distribution");
    QTest::newRow("uniform 1 µs..1 s") << QStringLiteral("uniform");
    QTest::newRow("lognormal around 50 ms") << QStringLiteral("lognormal");
    QTest::newRow("exponential mean 2 ms") << QStringLiteral("exponential");
    QTest::newRow("pareto tail") << QStringLiteral("pareto");
    QTest::newRow("bimodal 8 ms / 90 ms") << QStringLiteral("bimodal");
    QTest::newRow("up to an hour") << QStringLiteral("hour");
}

void TestHistogram::percentilesMatchExactValues()
{
    QFETCH(QString, distribution);
    std::mt19937_64 random(42);
    std::vector<std::uint64_t> values;
    const int n = 200'000;
    values.reserve(n);
    for (int i = 0; i < n; ++i) {
        double v = 0;
        if (distribution == QLatin1String("uniform"))
            v = std::uniform_real_distribution<double>(1, 1e6)(random);
        else if (distribution == QLatin1String("lognormal"))
            v = std::lognormal_distribution<double>(std::log(50'000.0), 0.6)(random);
        else if (distribution == QLatin1String("exponential"))
            v = std::exponential_distribution<double>(1.0 / 2000.0)(random);
        else if (distribution == QLatin1String("pareto"))
            v = 1000.0 / std::pow(1.0 - std::uniform_real_distribution<double>(0, 1)(random), 1.0 / 1.5);
        else if (distribution == QLatin1String("bimodal"))
            v = (i % 4 ? std::normal_distribution<double>(8000, 500)(random)
                       : std::normal_distribution<double>(90'000, 4000)(random));
        else
            v = std::uniform_real_distribution<double>(1e3, 3.6e9)(random);
        values.push_back(std::uint64_t(std::max(v, 0.0)));
    }
    LatencyHistogram histogram;
    SparseLatencyHistogram perStream; // what a streams.csv row is computed from
    for (std::uint64_t v : values) {
        histogram.record(v);
        perStream.record(v);
    }
    std::sort(values.begin(), values.end());

    QCOMPARE(histogram.count(), std::uint64_t(n));
    QCOMPARE(histogram.minUs(), values.front());
    QCOMPARE(histogram.maxUs(), values.back());
    double exactMean = 0;
    for (std::uint64_t v : values)
        exactMean += double(v);
    exactMean /= n;
    QVERIFY(std::abs(histogram.meanUs() - exactMean) <= exactMean * 1e-9);

    for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99, 100.0}) {
        const std::size_t rank = std::size_t(std::ceil(p / 100.0 * n));
        const double exact = double(values[std::max<std::size_t>(rank, 1) - 1]);
        const double measured = double(histogram.percentileUs(p));
        const double error = std::abs(measured - exact) / std::max(exact, 1.0);
        QVERIFY2(error <= 0.01, qPrintable(QStringLiteral("p%1: exact %2 µs, measured %3 µs (%4%)")
                                               .arg(p).arg(exact).arg(measured).arg(error * 100)));
        const double sparse = double(perStream.percentileUs(p));
        const double sparseError = std::abs(sparse - exact) / std::max(exact, 1.0);
        QVERIFY2(sparseError <= 0.004, qPrintable(QStringLiteral("per stream p%1: exact %2 µs, measured %3 µs (%4%)")
                                                      .arg(p).arg(exact).arg(sparse).arg(sparseError * 100)));
    }
    QCOMPARE(perStream.count(), std::uint64_t(n));
    QCOMPARE(perStream.maxUs(), values.back());
    QCOMPARE(histogram.percentileUs(100), values.back());
}

void TestHistogram::smallValuesAreExact()
{
    LatencyHistogram histogram;
    for (std::uint64_t v = 0; v < 200; ++v)
        histogram.record(v);
    QCOMPARE(histogram.percentileUs(50), std::uint64_t{99});
    QCOMPARE(histogram.percentileUs(0), std::uint64_t{0});
    QCOMPARE(histogram.percentileUs(100), std::uint64_t{199});
}

void TestHistogram::emptyHistogram()
{
    LatencyHistogram histogram;
    QVERIFY(histogram.isEmpty());
    QCOMPARE(histogram.percentileUs(99), std::uint64_t{0});
    QCOMPARE(histogram.meanUs(), 0.0);
    QCOMPARE(histogram.minUs(), std::uint64_t{0});
    QVERIFY(histogram.cdfMs().isEmpty());
}

void TestHistogram::mergeEqualsRecordingEverything()
{
    std::mt19937_64 random(7);
    std::lognormal_distribution<double> a(std::log(10'000.0), 0.3);
    std::lognormal_distribution<double> b(std::log(80'000.0), 0.2);
    LatencyHistogram left;
    LatencyHistogram right;
    LatencyHistogram all;
    for (int i = 0; i < 50'000; ++i) {
        const auto x = std::uint64_t(a(random));
        const auto y = std::uint64_t(b(random));
        left.record(x);
        right.record(y);
        all.record(x);
        all.record(y);
    }
    LatencyHistogram merged = left;
    merged.merge(right);
    QCOMPARE(merged.count(), all.count());
    QCOMPARE(merged.sumUs(), all.sumUs());
    QCOMPARE(merged.minUs(), all.minUs());
    QCOMPARE(merged.maxUs(), all.maxUs());
    for (double p : {50.0, 90.0, 99.0, 99.9})
        QCOMPARE(merged.percentileUs(p), all.percentileUs(p));
    // Half the values are around 10 ms and half around 80 ms: the median sits between.
    QVERIFY(merged.percentileMs(25) < 15);
    QVERIFY(merged.percentileMs(75) > 60);
}

void TestHistogram::sinceGivesTheWindow()
{
    LatencyHistogram cumulative;
    for (int i = 0; i < 1000; ++i)
        cumulative.record(std::uint64_t(1000 + i));
    const LatencyHistogram before = cumulative;
    for (int i = 0; i < 100; ++i)
        cumulative.record(std::uint64_t(50'000 + i * 10));
    const LatencyHistogram window = cumulative.since(before);
    QCOMPARE(window.count(), std::uint64_t{100});
    QVERIFY(std::abs(window.percentileMs(50) - 50.5) < 0.5);
    QCOMPARE(window.maxUs(), cumulative.maxUs()); // the overall max fell in this window
    QVERIFY(window.minUs() >= 49'500 && window.minUs() <= 50'000);
    QCOMPARE(cumulative.since(cumulative).count(), std::uint64_t{0});
}

void TestHistogram::valuesBeyondTheRangeKeepExactMax()
{
    LatencyHistogram histogram;
    histogram.record(buckets::kMaxTrackable * 4);
    histogram.record(100);
    QCOMPARE(histogram.maxUs(), buckets::kMaxTrackable * 4);
    QCOMPARE(histogram.percentileUs(100), buckets::kMaxTrackable * 4);
    QVERIFY(histogram.percentileUs(99) >= buckets::lowerBound(buckets::kCount - 1));
    histogram.record(std::chrono::microseconds(-5)); // a clock oddity counts as 0, not as 2^64
    QCOMPARE(histogram.minUs(), std::uint64_t{0});
}

void TestHistogram::cdfIsMonotonicAndEndsAtOne()
{
    std::mt19937_64 random(3);
    std::exponential_distribution<double> d(1.0 / 5000.0);
    LatencyHistogram histogram;
    for (int i = 0; i < 100'000; ++i)
        histogram.record(std::uint64_t(d(random)) + 1);
    const QList<QPointF> cdf = histogram.cdfMs(200);
    QVERIFY(cdf.size() >= 20);
    QVERIFY(cdf.size() <= 600);
    for (qsizetype i = 1; i < cdf.size(); ++i) {
        QVERIFY(cdf[i].x() > cdf[i - 1].x());
        QVERIFY(cdf[i].y() >= cdf[i - 1].y());
    }
    QCOMPARE(cdf.last().y(), 1.0);
    QCOMPARE(cdf.last().x(), double(histogram.maxUs()) / 1000.0);
    // The median of an exponential with mean 5 ms is 5 ln 2 ≈ 3.47 ms.
    const auto median = std::find_if(cdf.begin(), cdf.end(), [](const QPointF &p) { return p.y() >= 0.5; });
    QVERIFY(std::abs(median->x() - 3.466) < 0.1);
}

void TestHistogram::recorderSnapshotWhileRecording_data()
{
    QTest::addColumn<bool>("exclusive");
    QTest::newRow("record") << false;
    QTest::newRow("recordExclusive") << true;
}

void TestHistogram::recorderSnapshotWhileRecording()
{
    QFETCH(bool, exclusive);
    LatencyRecorder recorder;
    constexpr std::uint64_t kRecords = 2'000'000;
    std::atomic<bool> done{false};
    std::thread writer([&] {
        for (std::uint64_t v = 0; v < kRecords; ++v) {
            if (exclusive)
                recorder.recordExclusive(1000 + (v % 5000));
            else
                recorder.record(1000 + (v % 5000));
        }
        done = true;
    });
    std::uint64_t last = 0;
    int snapshots = 0;
    while (!done.load()) {
        const LatencyHistogram snapshot = recorder.snapshot();
        ++snapshots;
        QVERIFY(snapshot.count() >= last);
        last = snapshot.count();
        if (snapshot.count()) {
            QVERIFY(snapshot.minUs() <= snapshot.maxUs());
            QVERIFY(snapshot.percentileUs(50) >= 990 && snapshot.percentileUs(50) <= 6010);
        }
    }
    writer.join();
    QVERIFY(snapshots > 0);
    const LatencyHistogram final = recorder.snapshot();
    QCOMPARE(final.count(), kRecords);
    QCOMPARE(final.maxUs(), std::uint64_t{5999});
    QCOMPARE(final.minUs(), std::uint64_t{1000});
}

void TestHistogram::shardedRecordersMerge()
{
    ShardedLatency sharded(2);
    std::thread a([&] {
        for (int i = 0; i < 100'000; ++i)
            sharded.shard(0).recordExclusive(std::uint64_t(10'000));
    });
    std::thread b([&] {
        for (int i = 0; i < 100'000; ++i)
            sharded.shard(1).recordExclusive(std::chrono::microseconds(20'000));
    });
    a.join();
    b.join();
    const LatencyHistogram all = sharded.snapshot();
    QCOMPARE(all.count(), std::uint64_t{200'000});
    QCOMPARE(all.sumUs(), std::uint64_t{100'000} * 30'000);
    QCOMPARE(all.minUs(), std::uint64_t{10'000});
    QCOMPARE(all.maxUs(), std::uint64_t{20'000});
    QVERIFY(std::abs(all.percentileMs(50) - 10.0) < 0.05);
    QVERIFY(std::abs(all.percentileMs(51) - 20.0) < 0.1);
}

QTEST_GUILESS_MAIN(TestHistogram)
#include "tst_histogram.moc"
