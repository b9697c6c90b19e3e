#include "core/sse/browserprofile.h"
#include "core/sse/reconnectpolicy.h"

#include <QtTest>

#include <algorithm>
#include <vector>

using namespace edgesse;
using namespace std::chrono_literals;
using Policy = sse::ReconnectPolicy;

Q_DECLARE_METATYPE(Policy::Backoff)
Q_DECLARE_METATYPE(Policy::Jitter)

namespace {

std::vector<std::int64_t> sequence(const std::optional<Policy> &policy, std::chrono::milliseconds retry, int n,
                                   std::uint64_t seed)
{
    std::vector<std::int64_t> out;
    std::uint64_t random = seed;
    for (int i = 0; i < n; ++i)
        out.push_back(sse::reconnectDelay(policy, retry, std::uint32_t(i), random).count());
    return out;
}

} // namespace

class TestReconnectPolicy final : public QObject
{
    Q_OBJECT

private slots:
    void browserWaitsExactlyRetry();
    void boundsFollowTheBackoff_data();
    void boundsFollowTheBackoff();
    void jitterDrawsBelowTheBound_data();
    void jitterDrawsBelowTheBound();
    void seededAndRepeatable();
    void profilesAsTheBrowsersShipThem_data();
    void profilesAsTheBrowsersShipThem();
};

void TestReconnectPolicy::browserWaitsExactlyRetry()
{
    // No policy: what Chromium does — the same wait however many attempts failed.
    const auto s = sequence(std::nullopt, 1000ms, 8, 1);
    QCOMPARE(s, std::vector<std::int64_t>(8, 1000));
}

void TestReconnectPolicy::boundsFollowTheBackoff_data()
{
    QTest::addColumn<Policy::Backoff>("backoff");
    QTest::addColumn<int>("baseMs"); // 0: the reconnection time
    QTest::addColumn<int>("maxMs");
    QTest::addColumn<QList<int>>("expected");
    QTest::newRow("exponential 1s..30s") << Policy::Backoff::Exponential << 1000 << 30'000
                                         << QList<int>{1000, 2000, 4000, 8000, 16'000, 30'000, 30'000, 30'000};
    QTest::newRow("exponential from retry") << Policy::Backoff::Exponential << 0 << 10'000
                                            << QList<int>{3000, 6000, 10'000, 10'000};
    QTest::newRow("none") << Policy::Backoff::None << 500 << 30'000 << QList<int>{500, 500, 500, 500};
    QTest::newRow("exponential, huge attempt") << Policy::Backoff::Exponential << 250 << 60'000
                                               << QList<int>{250, 500, 1000, 2000, 4000, 8000, 16'000, 32'000, 60'000};
}

void TestReconnectPolicy::boundsFollowTheBackoff()
{
    QFETCH(Policy::Backoff, backoff);
    QFETCH(int, baseMs);
    QFETCH(int, maxMs);
    QFETCH(QList<int>, expected);
    Policy p;
    p.backoff = backoff;
    if (baseMs > 0)
        p.base = std::chrono::milliseconds(baseMs);
    p.max = std::chrono::milliseconds(maxMs);
    const auto s = sequence(p, 3000ms, int(expected.size()), 7);
    for (qsizetype i = 0; i < expected.size(); ++i)
        QCOMPARE(s[std::size_t(i)], std::int64_t(expected[i]));
    std::uint64_t random = 1;
    QCOMPARE(sse::reconnectDelay(p, 3000ms, 1'000'000, random).count(), std::int64_t(expected.back()));
}

void TestReconnectPolicy::jitterDrawsBelowTheBound_data()
{
    QTest::addColumn<Policy::Jitter>("jitter");
    QTest::addColumn<double>("low");  // share of the bound
    QTest::addColumn<double>("high");
    QTest::newRow("full") << Policy::Jitter::Full << 0.0 << 1.0;
    QTest::newRow("equal") << Policy::Jitter::Equal << 0.5 << 1.0;
}

void TestReconnectPolicy::jitterDrawsBelowTheBound()
{
    QFETCH(Policy::Jitter, jitter);
    QFETCH(double, low);
    QFETCH(double, high);
    // 20,000 clients dropped at once, each with its own seed: their first waits spread
    // uniformly over [low, high] × base — mean in the middle, every tenth of the range used.
    Policy p{Policy::Backoff::Exponential, 1000ms, 30'000ms, jitter};
    constexpr int kClients = 20'000;
    std::vector<int> deciles(10, 0);
    double sum = 0;
    for (int c = 0; c < kClients; ++c) {
        std::uint64_t random = 0x5eed0000u + std::uint64_t(c) * 0x9E3779B97F4A7C15ULL;
        const double ms = double(sse::reconnectDelay(p, 3000ms, 0, random).count());
        QVERIFY(ms >= low * 1000 - 0.5 && ms <= high * 1000 + 0.5);
        const int d = std::clamp(int((ms / 1000 - low) / (high - low) * 10), 0, 9);
        ++deciles[std::size_t(d)];
        sum += ms;
    }
    const double mean = sum / kClients;
    QVERIFY2(std::abs(mean - (low + high) / 2 * 1000) < 10, qPrintable(QString::number(mean)));
    for (int n : deciles) // 2000 expected each; 5 standard deviations is about 210
        QVERIFY2(std::abs(n - kClients / 10) < 250, qPrintable(QString::number(n)));
    // Attempt 3 under full jitter stays under its bound of 8 s.
    std::uint64_t random = 99;
    QVERIFY(sse::reconnectDelay(p, 3000ms, 3, random) <= 8000ms);
}

void TestReconnectPolicy::seededAndRepeatable()
{
    const Policy p{Policy::Backoff::Exponential, 1000ms, 30'000ms, Policy::Jitter::Full};
    QCOMPARE(sequence(p, 3000ms, 10, 42), sequence(p, 3000ms, 10, 42));
    QVERIFY(sequence(p, 3000ms, 10, 42) != sequence(p, 3000ms, 10, 43));
    // No jitter draws nothing: the random state is left as it was.
    std::uint64_t random = 5;
    sse::reconnectDelay(Policy{}, 1000ms, 2, random);
    QCOMPARE(random, std::uint64_t(5));
}

void TestReconnectPolicy::profilesAsTheBrowsersShipThem_data()
{
    QTest::addColumn<int>("engine");
    QTest::addColumn<int>("retryMs");
    QTest::addColumn<int>("minRetryMs");
    QTest::addColumn<bool>("utf8Only");
    // Blink kDefaultReconnectDelay; Gecko DEFAULT_/MIN_RECONNECTION_TIME_VALUE; WebKit defaultReconnectDelay.
    QTest::newRow("chromium") << int(sse::Engine::Chromium) << 3000 << 0 << true;
    QTest::newRow("firefox") << int(sse::Engine::Firefox) << 5000 << 500 << false;
    QTest::newRow("safari") << int(sse::Engine::WebKit) << 3000 << 0 << true;
}

void TestReconnectPolicy::profilesAsTheBrowsersShipThem()
{
    QFETCH(int, engine);
    QFETCH(int, retryMs);
    QFETCH(int, minRetryMs);
    QFETCH(bool, utf8Only);
    const sse::BrowserProfile &p = sse::browserProfile(sse::Engine(engine));
    QCOMPARE(p.defaultRetry.count(), retryMs);
    QCOMPARE(p.minRetry.count(), minRetryMs);
    QCOMPARE(p.charsetMustBeUtf8, utf8Only);
    QCOMPARE(p.connectionsPerHost, 6);
    QCOMPARE(p.h2StreamsBeforeSettings, 100u);
    QCOMPARE(p.h2StreamCap, 256u);
}

QTEST_GUILESS_MAIN(TestReconnectPolicy)
#include "tst_reconnectpolicy.moc"
