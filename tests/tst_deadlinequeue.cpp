#include "core/net/deadlinequeue.h"

#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <vector>

using namespace std::chrono_literals;
using edgesse::net::DeadlineQueue;

class TestDeadlineQueue final : public QObject
{
    Q_OBJECT

private slots:
    void runsInDeadlineOrder();
    void equalDeadlinesKeepScheduleOrder();
    void cancelledCallbackNeverRuns();
    void firesCloseToDeadline();
    void alwaysDueCallbackLeavesTheThreadResponsive();
    void oneWakeUpServesABoundedNumber();
};

void TestDeadlineQueue::runsInDeadlineOrder()
{
    DeadlineQueue queue;
    QVERIFY(queue.isValid());
    std::vector<int> order;
    const auto start = DeadlineQueue::Clock::now();
    queue.schedule(start + 3ms, [&] { order.push_back(3); });
    queue.schedule(start + 1ms, [&] { order.push_back(1); });
    queue.schedule(start + 2ms, [&] { order.push_back(2); });
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), std::size_t{3}, 2000);
    QCOMPARE(order, (std::vector<int>{1, 2, 3}));
    QCOMPARE(queue.pending(), std::size_t{0});
}

void TestDeadlineQueue::equalDeadlinesKeepScheduleOrder()
{
    DeadlineQueue queue;
    std::vector<int> order;
    const auto when = DeadlineQueue::Clock::now() + 1ms;
    for (int i = 0; i < 100; ++i)
        queue.schedule(when, [&order, i] { order.push_back(i); });
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), std::size_t{100}, 2000);
    for (int i = 0; i < 100; ++i)
        QCOMPARE(order[static_cast<std::size_t>(i)], i);
}

void TestDeadlineQueue::cancelledCallbackNeverRuns()
{
    DeadlineQueue queue;
    bool cancelledRan = false;
    bool laterRan = false;
    const auto id = queue.scheduleAfter(1ms, [&] { cancelledRan = true; });
    queue.scheduleAfter(5ms, [&] { laterRan = true; });
    QVERIFY(queue.cancel(id));
    QVERIFY(!queue.cancel(id));
    QTRY_VERIFY_WITH_TIMEOUT(laterRan, 2000);
    QVERIFY(!cancelledRan);
}

void TestDeadlineQueue::firesCloseToDeadline()
{
    // Generous bound: a loaded CI machine may be late, never early.
    DeadlineQueue queue;
    DeadlineQueue::TimePoint firedAt{};
    const auto deadline = DeadlineQueue::Clock::now() + 20300us;
    queue.schedule(deadline, [&] { firedAt = DeadlineQueue::Clock::now(); });
    QTRY_VERIFY_WITH_TIMEOUT(firedAt != DeadlineQueue::TimePoint{}, 2000);
    QVERIFY(firedAt >= deadline);
    QVERIFY2(firedAt - deadline < 50ms, "fired far too late");
}

void TestDeadlineQueue::alwaysDueCallbackLeavesTheThreadResponsive()
{
    // A callback that schedules itself for a time already past, as a publisher behind its
    // schedule does: calls queued to the thread must still run, after a few wake-ups.
    constexpr int kGiveUpAfter = 2'000'000; // ends the chain where one wake-up would run it all
    DeadlineQueue queue;
    int runs = 0;
    int runsBeforeQueuedCall = -1;
    std::function<void()> again = [&] {
        if (++runs == 1)
            QMetaObject::invokeMethod(&queue, [&] { runsBeforeQueuedCall = runs; }, Qt::QueuedConnection);
        if (runs < kGiveUpAfter && runsBeforeQueuedCall < 0)
            queue.schedule(DeadlineQueue::Clock::now() - 1ms, again);
    };
    queue.scheduleAfter(0ms, again);
    QTRY_VERIFY_WITH_TIMEOUT(runsBeforeQueuedCall >= 0, 20000);
    QVERIFY2(runsBeforeQueuedCall < 10, qPrintable(QString::number(runsBeforeQueuedCall)));
}

void TestDeadlineQueue::oneWakeUpServesABoundedNumber()
{
    constexpr int kDue = 3 * DeadlineQueue::kMaxPerWakeup + 7;
    DeadlineQueue queue;
    std::vector<int> order;
    int ranBeforeQueuedCall = -1;
    const auto past = DeadlineQueue::Clock::now() - 1ms;
    for (int i = 0; i < kDue; ++i) {
        queue.schedule(past, [&, i] {
            if (i == 0)
                QMetaObject::invokeMethod(&queue, [&] { ranBeforeQueuedCall = int(order.size()); }, Qt::QueuedConnection);
            order.push_back(i);
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(order.size(), std::size_t{kDue}, 5000);
    QCOMPARE(ranBeforeQueuedCall, DeadlineQueue::kMaxPerWakeup);
    for (int i = 0; i < kDue; ++i)
        QCOMPARE(order[std::size_t(i)], i);
}

QTEST_GUILESS_MAIN(TestDeadlineQueue)
#include "tst_deadlinequeue.moc"
