#include "core/link/directionpipeline.h"
#include "core/link/tokenbucket.h"

#include <QTest>

using namespace std::chrono_literals;
using edgesse::link::DirectionPipeline;
using edgesse::link::LinkSettings;
using edgesse::link::Nanos;
using edgesse::link::TimePoint;
using edgesse::link::TokenBucket;

namespace {

double ms(Nanos d)
{
    return std::chrono::duration<double, std::milli>(d).count();
}

const TimePoint t0 = TimePoint{} + 1h;

} // namespace

class TestTokenBucket final : public QObject
{
    Q_OBJECT

private slots:
    void departuresAtLineRate_data();
    void departuresAtLineRate();
    void idleLineSendsOneBurstAtOnce();
    void sharedByTwoFlows();
    void pipelinesShareOneBucket();
};

void TestTokenBucket::departuresAtLineRate_data()
{
    QTest::addColumn<qint64>("bitsPerSecond");
    QTest::addColumn<int>("bytes");
    QTest::newRow("64 KB at 10 Mbit/s") << qint64{10'000'000} << 65536;
    QTest::newRow("1 MB at 100 Mbit/s") << qint64{100'000'000} << 1'000'000;
    QTest::newRow("10 KB at 1 Mbit/s") << qint64{1'000'000} << 10'000;
}

void TestTokenBucket::departuresAtLineRate()
{
    QFETCH(qint64, bitsPerSecond);
    QFETCH(int, bytes);
    constexpr std::size_t kPiece = 1448;
    TokenBucket bucket(static_cast<std::uint64_t>(bitsPerSecond), kPiece);
    TimePoint last{};
    for (int sent = 0; sent < bytes; sent += static_cast<int>(kPiece))
        last = bucket.depart(t0, std::min<std::size_t>(kPiece, static_cast<std::size_t>(bytes - sent)));
    // The first piece leaves at once (the bucket is full); the rest at the line's rate.
    const double expectedMs = (bytes - static_cast<double>(kPiece)) * 8.0 / static_cast<double>(bitsPerSecond) * 1e3;
    QVERIFY2(std::abs(ms(last - t0) - expectedMs) < 0.01, qPrintable(QString::number(ms(last - t0))));
}

void TestTokenBucket::idleLineSendsOneBurstAtOnce()
{
    TokenBucket bucket(8'000'000, 4000); // 1 byte a microsecond, 4 ms of tokens
    QCOMPARE(bucket.depart(t0, 4000), t0);
    QCOMPARE(bucket.depart(t0, 1000), t0 + 1ms);
    // After 10 ms idle the bucket is full again, but holds no more than its depth.
    QCOMPARE(bucket.depart(t0 + 11ms, 4000), t0 + 11ms);
    QCOMPARE(bucket.depart(t0 + 11ms, 2000), t0 + 13ms);
}

void TestTokenBucket::sharedByTwoFlows()
{
    // Two flows each sending 64 KB at once over one 10 Mbit/s line: the second finishes after
    // twice the serialisation time of one, not one.
    TokenBucket line(10'000'000, 1448);
    TimePoint lastA{};
    TimePoint lastB{};
    for (int sent = 0; sent < 65536; sent += 1448) {
        const std::size_t piece = std::min(1448, 65536 - sent);
        lastA = line.depart(t0, piece);
        lastB = line.depart(t0, piece);
    }
    const double oneSerialisationMs = 65536 * 8.0 / 1e7 * 1e3; // 52.4 ms
    QVERIFY(std::abs(ms(lastB - t0) - 2 * oneSerialisationMs) < 1.5);
    QVERIFY(ms(lastA - t0) > 2 * oneSerialisationMs - 2.5);
}

void TestTokenBucket::pipelinesShareOneBucket()
{
    LinkSettings settings;
    settings.latency = 10ms;
    settings.bandwidthBitsPerSecond = 10'000'000;
    TokenBucket line(settings.bandwidthBitsPerSecond, 1448);
    DirectionPipeline a(settings, 1, &line, 1448);
    DirectionPipeline b(settings, 2, &line, 1448);
    TimePoint lastA{};
    TimePoint lastB{};
    const auto none = [](std::uint64_t, TimePoint) {};
    a.admit(t0, 0, 65536, [&](TimePoint r, std::size_t, std::size_t, bool) { lastA = std::max(lastA, r); }, none);
    b.admit(t0, 0, 65536, [&](TimePoint r, std::size_t, std::size_t, bool) { lastB = std::max(lastB, r); }, none);
    const double oneSerialisationMs = 65536 * 8.0 / 1e7 * 1e3;
    QVERIFY2(std::abs(ms(lastA - t0) - (10 + oneSerialisationMs)) < 1.5, qPrintable(QString::number(ms(lastA - t0))));
    QVERIFY2(std::abs(ms(lastB - t0) - (10 + 2 * oneSerialisationMs)) < 1.5, qPrintable(QString::number(ms(lastB - t0))));
}

QTEST_GUILESS_MAIN(TestTokenBucket)
#include "tst_tokenbucket.moc"
