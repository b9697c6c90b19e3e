// Lateness of 1 ms precise timers while 10,000 other timers are pending in the same thread,
// on Qt's stock dispatchers and on EpollEventDispatcher, in one invocation. Each worker
// thread runs with a 1 ns timer slack, as NetThreads' workers do.
// Usage: bench_timers [--seconds S] [--pending N]
#include "core/net/epolleventdispatcher.h"

#include <QCoreApplication>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <sys/prctl.h>
#include <vector>

using edgesse::net::EpollEventDispatcher;
using Clock = std::chrono::steady_clock;

namespace {

enum class Kind { Glib, Unix, Epoll };

const char *kindName(Kind kind)
{
    switch (kind) {
    case Kind::Glib:
        return "stock (glib)";
    case Kind::Unix:
        return "stock (unix)";
    case Kind::Epoll:
        return "epoll (ours)";
    }
    return "";
}

constexpr int kProbes = 4;

class TimerBench final : public QThread
{
public:
    TimerBench(int pending, double seconds)
        : m_pending(pending)
        , m_seconds(seconds)
    {
    }

    std::vector<double> latenessUs;
    QString dispatcherName;

protected:
    void run() override
    {
        ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        dispatcherName = QString::fromLatin1(eventDispatcher()->metaObject()->className());
        QObject owner;
        // Pending timers of every type, due in 20 to 120 s: registered, never firing here.
        std::mt19937 random(42);
        std::uniform_int_distribution<int> intervalMs(20'000, 120'000);
        const Qt::TimerType types[] = {Qt::PreciseTimer, Qt::CoarseTimer, Qt::VeryCoarseTimer};
        for (int i = 0; i < m_pending; ++i) {
            auto *timer = new QTimer(&owner);
            timer->setTimerType(types[i % 3]);
            timer->start(intervalMs(random));
        }

        QEventLoop loop;
        const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(m_seconds));
        int running = kProbes;
        for (int p = 0; p < kProbes; ++p) {
            auto *probe = new QTimer(&owner);
            probe->setTimerType(Qt::PreciseTimer);
            probe->setSingleShot(true);
            auto armedAt = std::make_shared<Clock::time_point>();
            QObject::connect(probe, &QTimer::timeout, probe, [=, this, &running, &loop] {
                const auto now = Clock::now();
                latenessUs.push_back(std::chrono::duration<double, std::micro>(now - (*armedAt + std::chrono::milliseconds(1))).count());
                if (now >= end) {
                    if (--running == 0)
                        loop.quit();
                    return;
                }
                *armedAt = Clock::now();
                probe->start(1);
            });
            *armedAt = Clock::now();
            probe->start(1);
            QThread::usleep(250); // stagger the probes
        }
        loop.exec();
    }

private:
    int m_pending;
    double m_seconds;
};

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto index = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1));
    return values[index];
}

} // namespace

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    double seconds = 3;
    int pending = 10000;
    const QStringList args = app.arguments();
    for (qsizetype i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--seconds"))
            seconds = args[i + 1].toDouble();
        else if (args[i] == QLatin1String("--pending"))
            pending = args[i + 1].toInt();
    }
    std::printf("%d precise 1 ms timers re-armed from their slots for %.1f s, %d other timers pending\n\n",
                kProbes, seconds, pending);
    std::printf("%-14s %8s %10s %10s %10s %10s\n", "dispatcher", "samples", "p50 µs", "p90 µs", "p99 µs", "max µs");
    double oursP99 = 0;
    for (const Kind kind : {Kind::Glib, Kind::Unix, Kind::Epoll}) {
        TimerBench bench(pending, seconds);
        if (kind == Kind::Epoll)
            bench.setEventDispatcher(new EpollEventDispatcher);
        if (kind == Kind::Unix)
            qputenv("QT_NO_GLIB", "1");
        bench.start();
        bench.wait();
        qunsetenv("QT_NO_GLIB");
        const auto &l = bench.latenessUs;
        std::printf("%-14s %8zu %10.1f %10.1f %10.1f %10.1f\n", kindName(kind), l.size(), percentile(l, 50),
                    percentile(l, 90), percentile(l, 99), percentile(l, 100));
        std::fflush(stdout);
        if (kind == Kind::Epoll)
            oursP99 = percentile(l, 99);
    }
    std::printf("\nours p99 = %.1f µs  (target <= 200 µs on an otherwise idle machine) %s\n", oursP99,
                oursP99 <= 200 ? "met" : "MISSED");
    return 0;
}
