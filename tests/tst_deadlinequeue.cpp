#include "core/net/deadlinequeue.h"

#include <QSignalSpy>
#include <QTest>

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

QTEST_GUILESS_MAIN(TestDeadlineQueue)
#include "tst_deadlinequeue.moc"
