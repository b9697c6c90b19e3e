#include "core/metrics/streamtracker.h"
#include "core/metrics/timeseries.h"

#include <QTest>

#include <cmath>
#include <limits>
#include <random>
#include <set>

using namespace std::chrono_literals;
using edgesse::metrics::DisconnectCause;
using edgesse::metrics::Fold;
using edgesse::metrics::LossCause;
using edgesse::metrics::StreamAccount;
using edgesse::metrics::StreamTracker;
using edgesse::metrics::TimeSeries;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::uint64_t lost(const StreamAccount &a, LossCause cause)
{
    return a.lostByCause[std::size_t(cause)];
}

void checkBalance(const StreamAccount &a)
{
    QCOMPARE(a.delivered + a.lost, a.expected);
    std::uint64_t byCause = 0;
    for (std::uint64_t n : a.lostByCause)
        byCause += n;
    QCOMPARE(byCause, a.lost);
}
} // namespace

class TestMetrics final : public QObject
{
    Q_OBJECT

private slots:
    // accounting
    void inOrderDeliveryLosesNothing();
    void duplicatesAreCountedNotDelivered();
    void reconnectGapIsLostWithItsCause();
    void replayFillsTheGap();
    void repeatedFailuresKeepTheFirstCause();
    void lateStartAndTailAndHoles();
    void eventsBeforeSubscribingAreEarly();
    void outOfOrderFillsHoles();
    void receiptsBeforeTheWindowCreateNoLoss();
    void neverServedStreamsLoseWhatTheyWanted();
    void randomizedAgainstASet();
    void accountsAdd();
    // time series
    void rowsAtBaseResolution();
    void foldsIntoCoarserWindows();
    void foldKinds();
    void channelAddedLater();
    void fromViewRestores();
};

void TestMetrics::inOrderDeliveryLosesNothing()
{
    StreamTracker tracker(10);
    for (std::uint64_t seq = 10; seq <= 109; ++seq)
        QCOMPARE(tracker.received(seq), StreamTracker::Receipt::Delivered);
    const StreamAccount a = tracker.account(109);
    QCOMPARE(a.expected, std::uint64_t{100});
    QCOMPARE(a.delivered, std::uint64_t{100});
    QCOMPARE(a.lost, std::uint64_t{0});
    QCOMPARE(a.duplicated, std::uint64_t{0});
    QCOMPARE(tracker.holes(), std::size_t{0});
    checkBalance(a);
}

void TestMetrics::duplicatesAreCountedNotDelivered()
{
    StreamTracker tracker(0);
    for (std::uint64_t seq = 0; seq < 10; ++seq)
        tracker.received(seq);
    // A reconnect whose Last-Event-ID replay resends the last two events.
    tracker.disconnected(DisconnectCause::ServerClose);
    QCOMPARE(tracker.received(8), StreamTracker::Receipt::Duplicate);
    QCOMPARE(tracker.received(9), StreamTracker::Receipt::Duplicate);
    for (std::uint64_t seq = 10; seq < 20; ++seq)
        tracker.received(seq);
    const StreamAccount a = tracker.account(19);
    QCOMPARE(a.delivered, std::uint64_t{20});
    QCOMPARE(a.duplicated, std::uint64_t{2});
    QCOMPARE(a.lost, std::uint64_t{0});
    QCOMPARE(a.reconnects, std::uint64_t{1});
    QCOMPARE(a.reconnectsByCause[std::size_t(DisconnectCause::ServerClose)], std::uint64_t{1});
    checkBalance(a);
}

void TestMetrics::reconnectGapIsLostWithItsCause()
{
    // An idle gateway reaps the stream after event 4; with no replay the server resumes at
    // the live edge, event 8: events 5, 6 and 7 are lost to the idle timeout.
    StreamTracker tracker(0);
    for (std::uint64_t seq = 0; seq <= 4; ++seq)
        tracker.received(seq);
    tracker.disconnected(DisconnectCause::IdleTimeout);
    for (std::uint64_t seq = 8; seq <= 12; ++seq)
        tracker.received(seq);
    const StreamAccount a = tracker.account(12);
    QCOMPARE(a.expected, std::uint64_t{13});
    QCOMPARE(a.delivered, std::uint64_t{10});
    QCOMPARE(a.lost, std::uint64_t{3});
    QCOMPARE(lost(a, LossCause::IdleTimeout), std::uint64_t{3});
    QCOMPARE(edgesse::metrics::lossCauseName(LossCause::IdleTimeout), QStringLiteral("idle_timeout"));
    checkBalance(a);
}

void TestMetrics::replayFillsTheGap()
{
    StreamTracker tracker(0);
    for (std::uint64_t seq = 0; seq <= 4; ++seq)
        tracker.received(seq);
    tracker.disconnected(DisconnectCause::MaxDuration);
    for (std::uint64_t seq = 5; seq <= 12; ++seq) // Last-Event-ID: 4 → replay from 5
        tracker.received(seq);
    const StreamAccount a = tracker.account(12);
    QCOMPARE(a.lost, std::uint64_t{0});
    QCOMPARE(a.reconnectsByCause[std::size_t(DisconnectCause::MaxDuration)], std::uint64_t{1});
    checkBalance(a);
}

void TestMetrics::repeatedFailuresKeepTheFirstCause()
{
    StreamTracker tracker(0);
    tracker.received(0);
    tracker.received(1);
    tracker.disconnected(DisconnectCause::IdleTimeout);
    tracker.disconnected(DisconnectCause::Rejected); // 503 at the cap, retried
    tracker.disconnected(DisconnectCause::Rejected);
    tracker.received(6);
    const StreamAccount a = tracker.account(6);
    QCOMPARE(a.reconnects, std::uint64_t{3});
    QCOMPARE(a.reconnectsByCause[std::size_t(DisconnectCause::Rejected)], std::uint64_t{2});
    QCOMPARE(lost(a, LossCause::IdleTimeout), std::uint64_t{4});
    QCOMPARE(lost(a, LossCause::Rejected), std::uint64_t{0});
    checkBalance(a);

    // A stream refused before its first event: its losses belong to the refusal.
    StreamTracker refused(100);
    refused.disconnected(DisconnectCause::Rejected);
    refused.received(103);
    const StreamAccount b = refused.account(103);
    QCOMPARE(lost(b, LossCause::Rejected), std::uint64_t{3});
    checkBalance(b);

    // And one still down when the run ends loses the rest to the same cause.
    StreamTracker down(0);
    down.received(0);
    down.disconnected(DisconnectCause::Error);
    const StreamAccount c = down.account(9);
    QCOMPARE(lost(c, LossCause::Error), std::uint64_t{9});
    checkBalance(c);
}

void TestMetrics::lateStartAndTailAndHoles()
{
    StreamTracker tracker(0);
    // First event only at 5: 0..4 went by while the stream waited for a connection.
    for (std::uint64_t seq : {5, 6, 8, 9, 10})
        tracker.received(seq);
    const StreamAccount a = tracker.account(14);
    QCOMPARE(a.expected, std::uint64_t{15});
    QCOMPARE(a.delivered, std::uint64_t{5});
    QCOMPARE(lost(a, LossCause::NotConnected), std::uint64_t{5});
    QCOMPARE(lost(a, LossCause::Gap), std::uint64_t{1});
    QCOMPARE(lost(a, LossCause::Tail), std::uint64_t{4});
    checkBalance(a);

    StreamTracker silent(3);
    const StreamAccount s = silent.account(12);
    QCOMPARE(s.expected, std::uint64_t{10});
    QCOMPARE(lost(s, LossCause::NotConnected), std::uint64_t{10});
    checkBalance(s);

    // Nothing published while subscribed: nothing expected.
    QCOMPARE(StreamTracker(20).account(19).expected, std::uint64_t{0});
}

void TestMetrics::eventsBeforeSubscribingAreEarly()
{
    StreamTracker tracker(50);
    QCOMPARE(tracker.received(48), StreamTracker::Receipt::Early);
    tracker.received(50);
    tracker.received(51);
    tracker.received(60); // after the cut-off: neither delivered nor lost
    const StreamAccount a = tracker.account(51);
    QCOMPARE(a.early, std::uint64_t{1});
    QCOMPARE(a.delivered, std::uint64_t{2});
    QCOMPARE(a.expected, std::uint64_t{2});
    checkBalance(a);
}

void TestMetrics::receiptsBeforeTheWindowCreateNoLoss()
{
    // A fault in the warm-up cut the stream after 10; it came back at 20 without replay. The
    // window opens at 25: the warm-up's hole and receipts are outside it.
    StreamTracker tracker(0);
    for (std::uint64_t seq = 0; seq <= 10; ++seq)
        tracker.received(seq);
    tracker.disconnected(DisconnectCause::Error);
    for (std::uint64_t seq = 20; seq <= 40; ++seq)
        tracker.received(seq);
    tracker.setFirstExpected(25);
    const StreamAccount a = tracker.account(40);
    QCOMPARE(a.expected, std::uint64_t{16});
    QCOMPARE(a.delivered, std::uint64_t{16});
    QCOMPARE(a.lost, std::uint64_t{0});
    checkBalance(a);

    // The window opening inside a received range counts only its part of it.
    tracker.setFirstExpected(5);
    const StreamAccount b = tracker.account(40);
    QCOMPARE(b.expected, std::uint64_t{36});
    QCOMPARE(b.delivered, std::uint64_t{6 + 21});
    QCOMPARE(lost(b, LossCause::Error), std::uint64_t{9});
    checkBalance(b);
}

void TestMetrics::neverServedStreamsLoseWhatTheyWanted()
{
    StreamTracker starved(10);
    const StreamAccount a = starved.neverServed(29);
    QCOMPARE(a.expected, std::uint64_t{20});
    QCOMPARE(lost(a, LossCause::NeverServed), std::uint64_t{20});
    QCOMPARE(edgesse::metrics::lossCauseName(LossCause::NeverServed), QStringLiteral("never_served"));
    checkBalance(a);

    StreamTracker refused(10);
    refused.disconnected(DisconnectCause::Rejected);
    refused.disconnected(DisconnectCause::Rejected);
    const StreamAccount b = refused.neverServed(29);
    QCOMPARE(lost(b, LossCause::Rejected), std::uint64_t{20});
    QCOMPARE(b.reconnectsByCause[std::size_t(DisconnectCause::Rejected)], std::uint64_t{2});
    checkBalance(b);

    QCOMPARE(StreamTracker(30).neverServed(29).expected, std::uint64_t{0}); // arrived after the last event
}

void TestMetrics::outOfOrderFillsHoles()
{
    StreamTracker tracker(0);
    for (std::uint64_t seq : {0, 1, 5, 3, 2, 4, 9, 7})
        QCOMPARE(tracker.received(seq), StreamTracker::Receipt::Delivered);
    QCOMPARE(tracker.holes(), std::size_t{2}); // 6 and 8 missing: [0..5] [7] [9]
    QCOMPARE(tracker.received(3), StreamTracker::Receipt::Duplicate);
    QCOMPARE(tracker.received(6), StreamTracker::Receipt::Delivered);
    QCOMPARE(tracker.received(8), StreamTracker::Receipt::Delivered);
    QCOMPARE(tracker.holes(), std::size_t{0});
    const StreamAccount a = tracker.account(9);
    QCOMPARE(a.delivered, std::uint64_t{10});
    QCOMPARE(a.duplicated, std::uint64_t{1});
    checkBalance(a);
}

void TestMetrics::randomizedAgainstASet()
{
    std::mt19937 random(99);
    for (int round = 0; round < 50; ++round) {
        const std::uint64_t first = random() % 100;
        const std::uint64_t last = first + random() % 400;
        StreamTracker tracker(first);
        std::set<std::uint64_t> seen;
        std::uint64_t duplicates = 0;
        for (int i = 0; i < 300; ++i) {
            const std::uint64_t seq = random() % 600;
            if (random() % 50 == 0)
                tracker.disconnected(DisconnectCause(random() % edgesse::metrics::kDisconnectCauseCount));
            const auto receipt = tracker.received(seq);
            if (seq < first) {
                QCOMPARE(receipt, StreamTracker::Receipt::Early);
            } else if (!seen.insert(seq).second) {
                QCOMPARE(receipt, StreamTracker::Receipt::Duplicate);
                ++duplicates;
            } else {
                QCOMPARE(receipt, StreamTracker::Receipt::Delivered);
            }
        }
        const StreamAccount a = tracker.account(last);
        std::uint64_t delivered = 0;
        for (std::uint64_t seq : seen)
            delivered += seq >= first && seq <= last;
        QCOMPARE(a.expected, last - first + 1);
        QCOMPARE(a.delivered, delivered);
        QCOMPARE(a.duplicated, duplicates);
        checkBalance(a);
    }
}

void TestMetrics::accountsAdd()
{
    StreamTracker one(0);
    one.received(0);
    one.disconnected(DisconnectCause::IdleTimeout);
    one.received(3);
    StreamTracker two(0);
    two.received(1);
    StreamAccount sum = one.account(3);
    sum += two.account(3);
    QCOMPARE(sum.expected, std::uint64_t{8});
    QCOMPARE(sum.delivered, std::uint64_t{3});
    QCOMPARE(sum.reconnects, std::uint64_t{1});
    checkBalance(sum);
}

void TestMetrics::rowsAtBaseResolution()
{
    TimeSeries series(100ms, 50);
    const int events = series.addChannel(QStringLiteral("events_per_s"), QStringLiteral("1/s"));
    const int p99 = series.addChannel(QStringLiteral("latency_p99_ms"), QStringLiteral("ms"), Fold::Max);
    QCOMPARE(series.addChannel(QStringLiteral("events_per_s")), events);
    for (int i = 0; i < 30; ++i) {
        std::vector<double> row = series.emptyRow();
        row[std::size_t(events)] = 20;
        row[std::size_t(p99)] = i % 10 == 0 ? kNaN : double(i);
        series.append(row);
    }
    QCOMPARE(series.viewInterval(), 100ms);
    const std::vector<double> times = series.viewTimes();
    QCOMPARE(times.size(), std::size_t{30});
    QCOMPARE(times.front(), 0.1);
    QVERIFY(std::abs(times.back() - 3.0) < 1e-9);
    const QList<QPointF> points = series.points(p99);
    QCOMPARE(points.size(), 27); // NaN windows are left out
    QCOMPARE(points.first(), QPointF(0.2, 1));
}

void TestMetrics::foldsIntoCoarserWindows()
{
    // Level 0 keeps 50 rows (5 s); a 12 s run is shown at 1 s resolution, whole.
    TimeSeries series(100ms, 50, 3, 10);
    const int c = series.addChannel(QStringLiteral("events_per_s"));
    for (int i = 0; i < 120; ++i) {
        std::vector<double> row = series.emptyRow();
        row[std::size_t(c)] = double(i / 10); // constant within each second
        series.append(row);
    }
    QCOMPARE(series.rowsAppended(), std::size_t{120});
    QCOMPARE(series.viewInterval(), 1000ms);
    const std::vector<double> values = series.viewValues(c);
    QCOMPARE(values.size(), std::size_t{12});
    for (std::size_t i = 0; i < values.size(); ++i)
        QCOMPARE(values[i], double(i));
    QCOMPARE(series.viewTimes().back(), 12.0);

    // 5 more rows: a partly filled last window reaches the newest data.
    for (int i = 0; i < 5; ++i) {
        std::vector<double> row = series.emptyRow();
        row[std::size_t(c)] = 100;
        series.append(row);
    }
    QCOMPARE(series.viewValues(c).size(), std::size_t{13});
    QCOMPARE(series.viewValues(c).back(), 100.0);
    QVERIFY(std::abs(series.viewTimes().back() - 12.5) < 1e-9);

    // Past every level's capacity, memory stays bounded: the coarsest level's window.
    TimeSeries small(100ms, 10, 2, 10);
    small.addChannel(QStringLiteral("x"));
    for (int i = 0; i < 10'000; ++i)
        small.append(std::vector<double>{double(i)});
    QCOMPARE(small.viewInterval(), 1000ms);
    QCOMPARE(small.viewValues(0).size(), std::size_t{10});
    QVERIFY(std::abs(small.viewTimes().back() - 1000.0) < 1e-9);
}

void TestMetrics::foldKinds()
{
    TimeSeries series(100ms, 5, 2, 10);
    const int mean = series.addChannel(QStringLiteral("mean"), {}, Fold::Mean);
    const int max = series.addChannel(QStringLiteral("max"), {}, Fold::Max);
    const int min = series.addChannel(QStringLiteral("min"), {}, Fold::Min);
    const int sum = series.addChannel(QStringLiteral("sum"), {}, Fold::Sum);
    const int last = series.addChannel(QStringLiteral("last"), {}, Fold::Last);
    const int empty = series.addChannel(QStringLiteral("empty"));
    for (int i = 1; i <= 10; ++i) {
        std::vector<double> row = series.emptyRow();
        for (int c : {mean, max, min, sum, last})
            row[std::size_t(c)] = double(i);
        series.append(row);
    }
    QCOMPARE(series.viewInterval(), 1000ms);
    QCOMPARE(series.viewValues(mean).front(), 5.5);
    QCOMPARE(series.viewValues(max).front(), 10.0);
    QCOMPARE(series.viewValues(min).front(), 1.0);
    QCOMPARE(series.viewValues(sum).front(), 55.0);
    QCOMPARE(series.viewValues(last).front(), 10.0);
    QVERIFY(std::isnan(series.viewValues(empty).front()));
    QCOMPARE(edgesse::metrics::foldFromName(QStringLiteral("sum")), Fold::Sum);
}

void TestMetrics::channelAddedLater()
{
    TimeSeries series;
    series.addChannel(QStringLiteral("a"));
    series.append(std::vector<double>{1});
    series.append(std::vector<double>{2});
    const int b = series.addChannel(QStringLiteral("b"));
    series.append(std::vector<double>{3, 30});
    const std::vector<double> values = series.viewValues(b);
    QCOMPARE(values.size(), std::size_t{3});
    QVERIFY(std::isnan(values[0]) && std::isnan(values[1]));
    QCOMPARE(values[2], 30.0);
    QCOMPARE(series.channelIndex(QStringLiteral("nope")), -1);
    QVERIFY(series.viewValues(-1).empty());
}

void TestMetrics::fromViewRestores()
{
    const TimeSeries series = TimeSeries::fromView(
        1000ms, {{QStringLiteral("x"), QStringLiteral("ms"), Fold::Max}}, {{1.0, kNaN, 3.0}});
    QCOMPARE(series.viewInterval(), 1000ms);
    QCOMPARE(series.channels().front().fold, Fold::Max);
    QCOMPARE(series.points(QStringLiteral("x")), (QList<QPointF>{{1, 1}, {3, 3}}));
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
