// Every connect() through a link takes one round trip, not just the typical one: the SYNs
// held in user space (NFQUEUE) are each let go one RTT after they came, so no client ever
// waits for the kernel's 1 s SYN retransmission. Root only (NFQUEUE); skipped otherwise.
//
// The connecting thread runs at the lowest real-time priority when it may, so that the
// figure measures the link rather than how late a loaded machine wakes the test.

#include "core/link/linkproxy.h"
#include "core/net/deadlinequeue.h"
#include "tests/support/loopback.h"

#include <QTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

using namespace std::chrono_literals;
using edgesse::link::ConnectTiming;
using edgesse::link::LinkProxy;
using edgesse::link::LinkSettings;
using edgesse::net::DeadlineQueue;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// `count` connects to `port`, `concurrent` at a time; each one's time from connect() to
// established, in ms (negative when it failed).
std::vector<double> timeConnects(quint16 port, int count, int concurrent)
{
    const sched_param lowest{::sched_get_priority_min(SCHED_FIFO)};
    ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &lowest);
    std::vector<double> times;
    std::vector<int> open;
    for (int done = 0; done < count; done += concurrent) {
        const int batch = std::min(concurrent, count - done);
        std::vector<std::thread> connectors;
        std::vector<double> batchTimes(std::size_t(batch), -1.0);
        std::vector<int> fds(std::size_t(batch), -1);
        for (int i = 0; i < batch; ++i)
            connectors.emplace_back([&, i] {
                ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &lowest);
                const Clock::time_point start = Clock::now();
                fds[std::size_t(i)] = edgesse::testing::connectLoopback(port);
                if (fds[std::size_t(i)] >= 0)
                    batchTimes[std::size_t(i)] = msSince(start);
            });
        for (std::thread &t : connectors)
            t.join();
        times.insert(times.end(), batchTimes.begin(), batchTimes.end());
        open.insert(open.end(), fds.begin(), fds.end());
    }
    for (int fd : open)
        if (fd >= 0)
            ::close(fd);
    return times;
}

} // namespace

class TestLinkConnect final : public QObject
{
    Q_OBJECT

private slots:
    void everyConnectTakesOneRoundTrip_data()
    {
        QTest::addColumn<int>("latencyMs");
        QTest::addColumn<int>("concurrent");
        QTest::newRow("rtt 50 ms, one at a time") << 25 << 1;
        QTest::newRow("rtt 50 ms, ten at once") << 25 << 10;
        QTest::newRow("rtt 100 ms, one at a time") << 50 << 1;
    }

    void everyConnectTakesOneRoundTrip()
    {
        QFETCH(int, latencyMs);
        QFETCH(int, concurrent);
        quint16 targetPort = 0;
        const int target = edgesse::testing::listenLoopback(targetPort);
        QVERIFY(target >= 0);
        DeadlineQueue queue;
        LinkSettings settings;
        settings.latency = std::chrono::milliseconds(latencyMs);
        LinkProxy proxy(settings, QHostAddress::LocalHost, targetPort, queue);
        QVERIFY2(proxy.listen(), qPrintable(proxy.errorString()));
        if (proxy.connectTiming() != ConnectTiming::HeldSyn)
            QSKIP(qPrintable(
                QStringLiteral("connect() returns at once here: %1. Run as root (NFQUEUE) to test it.").arg(proxy.connectNote())));

        constexpr int kConnects = 50;
        std::vector<double> times;
        std::atomic<bool> done{false};
        // The link accepts on this thread while the connects run on their own.
        std::thread connector([&, port = proxy.port()] {
            times = timeConnects(port, kConnects, concurrent);
            done = true;
        });
        QTRY_VERIFY_WITH_TIMEOUT(done.load(), 60000);
        connector.join();
        ::close(target);

        const double rtt = 2.0 * latencyMs;
        const double tolerance = std::max(0.15 * rtt, 3.0);
        std::sort(times.begin(), times.end());
        qInfo("rtt %.0f ms, %d connects: min %.2f, median %.2f, max %.2f ms", rtt, kConnects, times.front(), times[times.size() / 2],
              times.back());
        QVERIFY2(times.front() >= rtt - 0.5, qPrintable(QStringLiteral("a connect took %1 ms").arg(times.front())));
        QVERIFY2(times.back() <= rtt + tolerance,
                 qPrintable(QStringLiteral("a connect took %1 ms, more than %2 ms").arg(times.back()).arg(rtt + tolerance)));
    }
};

QTEST_GUILESS_MAIN(TestLinkConnect)
#include "tst_linkconnect.moc"
