// The publisher against a machine slower than its rate: it publishes what it can, says it
// fell behind, and leaves its thread free for everything else queued there.
#include "core/net/deadlinequeue.h"
#include "core/sim/publisher.h"

#include <QElapsedTimer>
#include <QTest>

#include <chrono>

using namespace std::chrono_literals;
using namespace edgesse;

class TestPublisher final : public QObject
{
    Q_OBJECT

private slots:
    void keepsAnEasyRate();
    void slowSinkIsMeasuredNotALivelock();
};

namespace {

sim::PublishSettings constantRate(double perSecond)
{
    sim::PublishSettings settings;
    settings.eventsPerSecond = perSecond;
    return settings;
}

void busyFor(std::chrono::microseconds d)
{
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
    }
}

} // namespace

void TestPublisher::keepsAnEasyRate()
{
    net::DeadlineQueue queue;
    sim::PublishLog log;
    sim::Publisher publisher(constantRate(200), "x", log, queue, [](const sse::PublishedEvent &) {});
    QElapsedTimer clock;
    clock.start();
    publisher.start();
    QTest::qWait(1000);
    publisher.stop();
    const double expected = 200.0 * double(clock.elapsed()) / 1000.0;
    QVERIFY2(std::abs(double(publisher.published()) - expected) <= 0.05 * expected + 2,
             qPrintable(QStringLiteral("published %1, expected %2").arg(publisher.published()).arg(expected)));
    QCOMPARE(publisher.timesFellBehind(), std::uint64_t{0});
}

void TestPublisher::slowSinkIsMeasuredNotALivelock()
{
    // 100,000 events a second asked, each taking 1 ms to publish: at most about 1,000 a
    // second can go out. Calls queued to the thread still run promptly, and the publisher
    // records that it fell behind.
    // After 3,000 slow events the sink turns fast, so that a publisher stuck in one wake-up
    // catches up at last and the test fails instead of hanging.
    net::DeadlineQueue queue;
    sim::PublishLog log;
    int sunk = 0;
    sim::Publisher publisher(constantRate(100'000), "x", log, queue, [&sunk](const sse::PublishedEvent &) {
        if (++sunk <= 3000)
            busyFor(1ms);
    });
    publisher.start();
    QElapsedTimer clock;
    clock.start();
    qint64 worstWaitMs = 0;
    int answered = 0;
    while (clock.elapsed() < 1500) {
        QElapsedTimer wait;
        wait.start();
        bool ran = false;
        QMetaObject::invokeMethod(&queue, [&] { ran = true; }, Qt::QueuedConnection);
        while (!ran && wait.elapsed() < 5000)
            QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        QVERIFY2(ran, "a call queued to the publisher's thread never ran");
        worstWaitMs = std::max(worstWaitMs, wait.elapsed());
        ++answered;
    }
    publisher.stop();
    const double seconds = double(clock.elapsed()) / 1000.0;
    QVERIFY2(worstWaitMs < 250, qPrintable(QStringLiteral("a queued call waited %1 ms").arg(worstWaitMs)));
    QVERIFY(answered > 5);
    QVERIFY(publisher.published() <= std::uint64_t(1000 * seconds) + 50);
    QVERIFY(publisher.published() > 10);
    QVERIFY(publisher.timesFellBehind() > 0);
}

QTEST_GUILESS_MAIN(TestPublisher)
#include "tst_publisher.moc"
