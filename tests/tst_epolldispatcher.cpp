#include "core/net/epolleventdispatcher.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryFile>
#include <QTest>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <atomic>
#include <memory>
#include <random>
#include <unordered_map>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace std::chrono_literals;
using edgesse::net::EpollEventDispatcher;

namespace {

// A connected AF_UNIX stream pair, closed on destruction.
struct SocketPair {
    int fd[2] = {-1, -1};
    SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd); }
    ~SocketPair()
    {
        for (const int f : fd) {
            if (f >= 0)
                ::close(f);
        }
    }
    Q_DISABLE_COPY_MOVE(SocketPair)
    bool send(const char *data = "x") const { return ::write(fd[1], data, std::strlen(data)) > 0; }
};

// Records the order of timer events it receives, optionally killing each timer on its first shot.
class TimerRecorder final : public QObject
{
public:
    std::vector<int> fired;
    bool killOnFire = false;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.push_back(event->timerId());
        if (killOnFire)
            killTimer(event->timerId());
    }
};

EpollEventDispatcher *dispatcher()
{
    return qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
}

} // namespace

class TestEpollDispatcher final : public QObject
{
    Q_OBJECT

private slots:
    void installedOnMainThread();
    void notifierIsLevelTriggered();
    void notifierDisabledInsideActivation();
    void notifierEnabledInsideActivation();
    void notifierDeletedInsideActivation();
    void siblingNotifierDeletedBeforeItsTurn();
    void descriptorNumberReused();
    void regularFileIsAlwaysReady();
    void timerTypes_data();
    void timerTypes();
    void coarseAndVeryCoarseConversions();
    void zeroIntervalTimerDoesNotStarve();
    void singleShotZeroTimerFiresOnce();
    void timerKilledFromOwnCallback();
    void timerRestartedFromOwnCallback();
    void manyTimersFireInOrder();
    void registeredTimersAndRemainingTime();
    void nestedLoopDoesNotReenterTimer();
    void postedEventsAcrossThreads();
    void queuedSignalsToWorkerThread();
    void deleteLaterRuns();
    void interruptEndsBlockingWait();
    void wakeUpEndsBlockingWait();
    void excludeFlags();
    void echoServerAndClient();
    void tenThousandConcurrentTimers();
};

void TestEpollDispatcher::installedOnMainThread()
{
    QVERIFY(dispatcher());
    QVERIFY(dispatcher()->isValid());
}

void TestEpollDispatcher::notifierIsLevelTriggered()
{
    SocketPair pair;
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] { ++activations; });
    QVERIFY(pair.send());
    // Never read: a level-triggered notifier keeps reporting the unread byte.
    QTRY_VERIFY_WITH_TIMEOUT(activations >= 5, 2000);
}

void TestEpollDispatcher::notifierDisabledInsideActivation()
{
    SocketPair pair;
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    int activations = 0;
    connect(&notifier, &QSocketNotifier::activated, this, [&] {
        ++activations;
        notifier.setEnabled(false);
    });
    QVERIFY(pair.send());
    QTRY_COMPARE_WITH_TIMEOUT(activations, 1, 2000);
    for (int i = 0; i < 20; ++i)
        QCoreApplication::processEvents();
    QTest::qWait(20);
    QCOMPARE(activations, 1);
    notifier.setEnabled(true); // data is still unread: fires again
    QTRY_COMPARE_WITH_TIMEOUT(activations, 2, 2000);
}

void TestEpollDispatcher::notifierEnabledInsideActivation()
{
    SocketPair pair;
    QSocketNotifier reader(pair.fd[0], QSocketNotifier::Read);
    QSocketNotifier writer(pair.fd[0], QSocketNotifier::Write);
    writer.setEnabled(false);
    int writes = 0;
    connect(&reader, &QSocketNotifier::activated, this, [&] {
        char buffer[16];
        [[maybe_unused]] const auto n = ::read(pair.fd[0], buffer, sizeof buffer);
        writer.setEnabled(true);
    });
    connect(&writer, &QSocketNotifier::activated, this, [&] {
        ++writes;
        writer.setEnabled(false);
    });
    QTest::qWait(20);
    QCOMPARE(writes, 0);
    QVERIFY(pair.send());
    QTRY_COMPARE_WITH_TIMEOUT(writes, 1, 2000);
    QTest::qWait(20);
    QCOMPARE(writes, 1);
}

void TestEpollDispatcher::notifierDeletedInsideActivation()
{
    SocketPair pair;
    auto *notifier = new QSocketNotifier(pair.fd[0], QSocketNotifier::Read);
    QPointer<QSocketNotifier> guard(notifier);
    int activations = 0;
    connect(notifier, &QSocketNotifier::activated, this, [&] {
        ++activations;
        delete notifier;
    });
    QVERIFY(pair.send());
    QTRY_VERIFY_WITH_TIMEOUT(guard.isNull(), 2000);
    QTest::qWait(20);
    QCOMPARE(activations, 1);

    // The descriptor left the set: a new notifier on it works.
    QSocketNotifier again(pair.fd[0], QSocketNotifier::Read);
    QSignalSpy spy(&again, &QSocketNotifier::activated);
    QVERIFY(spy.wait(2000));
}

void TestEpollDispatcher::siblingNotifierDeletedBeforeItsTurn()
{
    // Both are ready in the same pass; the first one's slot deletes the second, whose
    // activation must then never be delivered.
    SocketPair pair;
    auto *reader = new QSocketNotifier(pair.fd[0], QSocketNotifier::Read, this);
    auto *writer = new QSocketNotifier(pair.fd[0], QSocketNotifier::Write, this);
    int readerCalls = 0;
    int writerCalls = 0;
    connect(reader, &QSocketNotifier::activated, this, [&] {
        ++readerCalls;
        delete writer;
        writer = nullptr;
        reader->setEnabled(false);
    });
    connect(writer, &QSocketNotifier::activated, this, [&] {
        ++writerCalls;
        delete reader;
        reader = nullptr;
        writer->setEnabled(false);
    });
    QVERIFY(pair.send());
    QTRY_COMPARE_WITH_TIMEOUT(readerCalls + writerCalls, 1, 2000);
    QTest::qWait(20);
    QCOMPARE(readerCalls + writerCalls, 1);
    delete reader;
    delete writer;
}

void TestEpollDispatcher::descriptorNumberReused()
{
    int firstFd = -1;
    {
        SocketPair pair;
        firstFd = pair.fd[0];
        QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
        QVERIFY(pair.send());
        QSignalSpy spy(&notifier, &QSocketNotifier::activated);
        QVERIFY(spy.wait(2000));
    }
    SocketPair pair;
    QCOMPARE(pair.fd[0], firstFd);
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    QSignalSpy spy(&notifier, &QSocketNotifier::activated);
    QTest::qWait(10);
    QCOMPARE(spy.count(), 0);
    QVERIFY(pair.send());
    QVERIFY(spy.wait(2000));
}

void TestEpollDispatcher::regularFileIsAlwaysReady()
{
    QTemporaryFile file;
    QVERIFY(file.open());
    file.write("data");
    file.flush();
    QSocketNotifier notifier(file.handle(), QSocketNotifier::Read);
    QSignalSpy spy(&notifier, &QSocketNotifier::activated);
    QVERIFY(spy.wait(2000));
    notifier.setEnabled(false);
    QTest::qWait(10);
    const auto seen = spy.count();
    QTest::qWait(10);
    QCOMPARE(spy.count(), seen);
}

void TestEpollDispatcher::timerTypes_data()
{
    QTest::addColumn<Qt::TimerType>("type");
    QTest::addColumn<int>("intervalMs");
    QTest::addColumn<int>("earliestMs");
    QTest::addColumn<int>("latestMs");
    // Precise never fires early; coarse may move by 5%; very coarse lands on whole seconds.
    QTest::newRow("precise 15 ms") << Qt::PreciseTimer << 15 << 15 << 500;
    QTest::newRow("coarse 100 ms") << Qt::CoarseTimer << 100 << 95 << 600;
    QTest::newRow("coarse 10 ms becomes precise") << Qt::CoarseTimer << 10 << 10 << 500;
    QTest::newRow("very coarse 1 s") << Qt::VeryCoarseTimer << 1000 << 500 << 2500;
}

void TestEpollDispatcher::timerTypes()
{
    QFETCH(Qt::TimerType, type);
    QFETCH(int, intervalMs);
    QFETCH(int, earliestMs);
    QFETCH(int, latestMs);

    for (int round = 0; round < 3; ++round) {
        QTimer timer;
        timer.setTimerType(type);
        timer.setSingleShot(true);
        timer.setInterval(intervalMs);
        QElapsedTimer clock;
        qint64 firedAfterMs = -1;
        connect(&timer, &QTimer::timeout, this, [&] { firedAfterMs = clock.elapsed(); });
        clock.start();
        timer.start();
        QTRY_VERIFY_WITH_TIMEOUT(firedAfterMs >= 0, latestMs + 2000);
        QVERIFY2(firedAfterMs >= earliestMs, qPrintable(QStringLiteral("fired after %1 ms").arg(firedAfterMs)));
        QVERIFY2(firedAfterMs <= latestMs, qPrintable(QStringLiteral("fired after %1 ms").arg(firedAfterMs)));
        if (type == Qt::VeryCoarseTimer)
            break;
    }
}

void TestEpollDispatcher::coarseAndVeryCoarseConversions()
{
    QObject object;
    const int shortCoarse = object.startTimer(10ms, Qt::CoarseTimer);
    const int longCoarse = object.startTimer(25s, Qt::CoarseTimer);
    const int veryCoarse = object.startTimer(1400ms, Qt::VeryCoarseTimer);
    const auto timers = dispatcher()->registeredTimers(&object);
    QCOMPARE(timers.size(), 3);
    for (const auto &info : timers) {
        if (info.timerId == shortCoarse) {
            QCOMPARE(info.timerType, Qt::PreciseTimer);
            QCOMPARE(info.interval, 10);
        } else if (info.timerId == longCoarse) {
            QCOMPARE(info.timerType, Qt::VeryCoarseTimer);
            QCOMPARE(info.interval, 25000);
        } else {
            QCOMPARE(info.timerId, veryCoarse);
            QCOMPARE(info.timerType, Qt::VeryCoarseTimer);
            QCOMPARE(info.interval, 1000); // rounded to the nearest second
        }
    }
}

void TestEpollDispatcher::zeroIntervalTimerDoesNotStarve()
{
    QTimer busy;
    busy.setInterval(0);
    int spins = 0;
    connect(&busy, &QTimer::timeout, this, [&] { ++spins; });
    busy.start();

    SocketPair pair;
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    QSignalSpy socketSpy(&notifier, &QSocketNotifier::activated);
    bool posted = false;
    QMetaObject::invokeMethod(this, [&] { posted = true; }, Qt::QueuedConnection);
    QTimer later;
    later.setSingleShot(true);
    QSignalSpy laterSpy(&later, &QTimer::timeout);
    later.start(20);
    QVERIFY(pair.send());

    QTRY_VERIFY_WITH_TIMEOUT(posted && socketSpy.count() > 0 && laterSpy.count() == 1, 3000);
    QVERIFY(spins > 10);
}

void TestEpollDispatcher::singleShotZeroTimerFiresOnce()
{
    QTimer timer;
    timer.setSingleShot(true);
    timer.setInterval(0);
    QSignalSpy spy(&timer, &QTimer::timeout);
    timer.start();
    QTRY_COMPARE_WITH_TIMEOUT(spy.count(), 1, 2000);
    QTest::qWait(20);
    QCOMPARE(spy.count(), 1);
    QVERIFY(!timer.isActive());
}

void TestEpollDispatcher::timerKilledFromOwnCallback()
{
    TimerRecorder recorder;
    recorder.killOnFire = true;
    const int zero = recorder.startTimer(0ms);
    const int oneMs = recorder.startTimer(1ms, Qt::PreciseTimer);
    QTRY_COMPARE_WITH_TIMEOUT(recorder.fired.size(), std::size_t{2}, 2000);
    QTest::qWait(30);
    QCOMPARE(recorder.fired, (std::vector<int>{zero, oneMs}));
    QVERIFY(dispatcher()->registeredTimers(&recorder).isEmpty());
}

void TestEpollDispatcher::timerRestartedFromOwnCallback()
{
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    int shots = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++shots;
        if (shots < 5)
            timer.start(shots); // kill and register again, possibly under the same id
        else
            timer.stop();
    });
    timer.start(1);
    QTRY_COMPARE_WITH_TIMEOUT(shots, 5, 2000);
    QTest::qWait(20);
    QCOMPARE(shots, 5);
}

void TestEpollDispatcher::manyTimersFireInOrder()
{
    // Each timer's deadline lies between the clock read just before and just after its
    // registration, plus its interval. A timer whose deadline was certainly earlier than
    // another's must fire first; timers whose deadline windows overlap may fire either way.
    // This holds however slowly the registrations run on a loaded machine.
    using Clock = std::chrono::steady_clock;
    TimerRecorder recorder;
    recorder.killOnFire = true;
    std::mt19937 random(7);
    std::uniform_int_distribution<int> pick(1, 60);
    struct Window {
        Clock::time_point earliest;
        Clock::time_point latest;
    };
    std::unordered_map<int, Window> windows;
    for (int i = 0; i < 300; ++i) {
        const auto interval = std::chrono::milliseconds(pick(random));
        const auto before = Clock::now();
        const int id = recorder.startTimer(interval, Qt::PreciseTimer);
        const auto after = Clock::now();
        windows.emplace(id, Window{before + interval, after + interval});
    }
    QTRY_COMPARE_WITH_TIMEOUT(recorder.fired.size(), windows.size(), 5000);
    for (std::size_t i = 0; i < recorder.fired.size(); ++i) {
        const Window &first = windows.at(recorder.fired[i]);
        for (std::size_t j = i + 1; j < recorder.fired.size(); ++j) {
            const Window &later = windows.at(recorder.fired[j]);
            if (later.latest < first.earliest)
                QFAIL(qPrintable(QStringLiteral("timer %1 fired before timer %2, whose deadline was earlier")
                                     .arg(recorder.fired[i])
                                     .arg(recorder.fired[j])));
        }
    }
}

void TestEpollDispatcher::registeredTimersAndRemainingTime()
{
    QObject object;
    QObject other;
    const int a = object.startTimer(500ms, Qt::PreciseTimer);
    const int b = object.startTimer(300ms, Qt::CoarseTimer);
    const int c = other.startTimer(5s, Qt::PreciseTimer);

    auto timers = dispatcher()->registeredTimers(&object);
    QCOMPARE(timers.size(), 2);
    std::sort(timers.begin(), timers.end(), [](const auto &x, const auto &y) { return x.timerId < y.timerId; });
    QCOMPARE(timers[0].timerId, std::min(a, b));
    QCOMPARE(dispatcher()->registeredTimers(&other).size(), 1);

    const int leftA = dispatcher()->remainingTime(a);
    QVERIFY2(leftA > 400 && leftA <= 500, qPrintable(QString::number(leftA)));
    const int leftB = dispatcher()->remainingTime(b);
    QVERIFY2(leftB >= 250 && leftB <= 315, qPrintable(QString::number(leftB)));

    QVERIFY(dispatcher()->unregisterTimer(a));
    QVERIFY(!dispatcher()->unregisterTimer(a));
    QCOMPARE(dispatcher()->remainingTime(a), -1);
    QCOMPARE(dispatcher()->registeredTimers(&object).size(), 1);

    QVERIFY(dispatcher()->unregisterTimers(&object));
    QVERIFY(dispatcher()->registeredTimers(&object).isEmpty());
    QCOMPARE(dispatcher()->remainingTime(b), -1);
    QVERIFY(dispatcher()->remainingTime(c) > 4000);

    QTimer overdue;
    overdue.setTimerType(Qt::PreciseTimer);
    overdue.start(1);
    QThread::usleep(3000);
    QCOMPARE(overdue.remainingTime(), 0);
    other.killTimer(c);
    // QObject's bookkeeping and ours agree after the kills.
    QVERIFY(dispatcher()->registeredTimers(&other).isEmpty());
}

void TestEpollDispatcher::nestedLoopDoesNotReenterTimer()
{
    QTimer timer;
    timer.setInterval(0);
    int depth = 0;
    int maxDepth = 0;
    int shots = 0;
    connect(&timer, &QTimer::timeout, this, [&] {
        ++shots;
        ++depth;
        maxDepth = std::max(maxDepth, depth);
        if (shots == 1) {
            QEventLoop loop;
            QTimer::singleShot(30, &loop, &QEventLoop::quit);
            loop.exec();
        }
        --depth;
    });
    timer.start();
    QTRY_VERIFY_WITH_TIMEOUT(shots >= 3, 3000);
    timer.stop();
    QCOMPARE(maxDepth, 1);
}

void TestEpollDispatcher::postedEventsAcrossThreads()
{
    class Counter final : public QObject
    {
    public:
        std::vector<int> seen;

    protected:
        bool event(QEvent *event) override
        {
            if (event->type() == QEvent::User + 1) {
                seen.push_back(static_cast<int>(seen.size()));
                return true;
            }
            return QObject::event(event);
        }
    };
    Counter counter;
    constexpr int kPerThread = 5000;
    std::vector<std::thread> posters;
    for (int t = 0; t < 3; ++t) {
        posters.emplace_back([&counter] {
            for (int i = 0; i < kPerThread; ++i)
                QCoreApplication::postEvent(&counter, new QEvent(QEvent::Type(QEvent::User + 1)));
        });
    }
    QTRY_COMPARE_WITH_TIMEOUT(counter.seen.size(), std::size_t{3 * kPerThread}, 10000);
    for (auto &poster : posters)
        poster.join();
}

void TestEpollDispatcher::queuedSignalsToWorkerThread()
{
    QThread worker;
    worker.setEventDispatcher(new EpollEventDispatcher);
    worker.start();
    QObject receiver;
    receiver.moveToThread(&worker);
    std::atomic<int> calls{0};
    std::atomic<bool> onWorker{true};
    for (int i = 0; i < 1000; ++i) {
        QMetaObject::invokeMethod(&receiver, [&] {
            if (QThread::currentThread() != &worker)
                onWorker = false;
            ++calls;
        }, Qt::QueuedConnection);
    }
    QTRY_COMPARE_WITH_TIMEOUT(calls.load(), 1000, 5000);
    QVERIFY(onWorker);

    // A timer and a reply back to the main thread, both through the worker's loop.
    bool replied = false;
    QMetaObject::invokeMethod(&receiver, [&] {
        QTimer::singleShot(5, &receiver, [&] {
            QMetaObject::invokeMethod(this, [&] { replied = true; }, Qt::QueuedConnection);
        });
    }, Qt::QueuedConnection);
    QTRY_VERIFY_WITH_TIMEOUT(replied, 3000);
    QVERIFY(qobject_cast<EpollEventDispatcher *>(worker.eventDispatcher()));
    QThread *mainThread = QThread::currentThread();
    QMetaObject::invokeMethod(&receiver, [&] { receiver.moveToThread(mainThread); }, Qt::BlockingQueuedConnection);
    worker.quit();
    QVERIFY(worker.wait(5000));
}

void TestEpollDispatcher::deleteLaterRuns()
{
    QPointer<QObject> object = new QObject;
    object->deleteLater();
    QTRY_VERIFY_WITH_TIMEOUT(object.isNull(), 2000);
}

void TestEpollDispatcher::interruptEndsBlockingWait()
{
    QElapsedTimer clock;
    clock.start();
    EpollEventDispatcher *mainDispatcher = dispatcher();
    std::thread other([mainDispatcher] {
        std::this_thread::sleep_for(50ms);
        mainDispatcher->interrupt();
    });
    // Nothing else is pending (no timers, no ready sockets): only interrupt() ends the wait.
    for (int i = 0; i < 100 && clock.elapsed() < 40; ++i)
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    other.join();
    QVERIFY2(clock.elapsed() < 5000, "interrupt() did not end the wait");
}

void TestEpollDispatcher::wakeUpEndsBlockingWait()
{
    QElapsedTimer clock;
    clock.start();
    EpollEventDispatcher *mainDispatcher = dispatcher();
    std::thread other([mainDispatcher] {
        std::this_thread::sleep_for(30ms);
        mainDispatcher->wakeUp();
    });
    for (int i = 0; i < 100 && clock.elapsed() < 20; ++i)
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    other.join();
    QVERIFY(clock.elapsed() < 5000);
}

void TestEpollDispatcher::excludeFlags()
{
    SocketPair pair;
    QSocketNotifier notifier(pair.fd[0], QSocketNotifier::Read);
    QSignalSpy socketSpy(&notifier, &QSocketNotifier::activated);
    QVERIFY(pair.send());

    // A ready socket neither activates nor keeps a waiting loop spinning when excluded.
    QTimer timer;
    timer.setTimerType(Qt::PreciseTimer);
    timer.setSingleShot(true);
    QSignalSpy timerSpy(&timer, &QTimer::timeout);
    timer.start(20);
    QElapsedTimer clock;
    clock.start();
    int passes = 0;
    while (timerSpy.isEmpty() && clock.elapsed() < 3000) {
        dispatcher()->processEvents(QEventLoop::ExcludeSocketNotifiers | QEventLoop::WaitForMoreEvents);
        ++passes;
    }
    QCOMPARE(timerSpy.count(), 1);
    QCOMPARE(socketSpy.count(), 0);
    QVERIFY2(passes < 20, qPrintable(QStringLiteral("%1 passes").arg(passes)));

    // Excluded timers stay due and fire on the next pass that includes them.
    timer.start(1);
    QThread::usleep(5000);
    dispatcher()->processEvents(QEventLoop::X11ExcludeTimers);
    QCOMPARE(timerSpy.count(), 1);
    QVERIFY(socketSpy.count() >= 1);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(timerSpy.count(), 2);
}

void TestEpollDispatcher::echoServerAndClient()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    std::vector<std::unique_ptr<QTcpSocket>> accepted;
    connect(&server, &QTcpServer::newConnection, this, [&] {
        while (QTcpSocket *socket = server.nextPendingConnection()) {
            connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->write(socket->readAll()); });
            accepted.emplace_back(socket);
        }
    });

    constexpr int kClients = 20;
    QByteArray payload(256 * 1024, Qt::Uninitialized);
    for (int i = 0; i < payload.size(); ++i)
        payload[i] = static_cast<char>(i * 31 + 7);
    std::vector<std::unique_ptr<QTcpSocket>> clients;
    std::vector<QByteArray> received(kClients);
    for (int i = 0; i < kClients; ++i) {
        auto client = std::make_unique<QTcpSocket>();
        QTcpSocket *raw = client.get();
        connect(raw, &QTcpSocket::readyRead, this, [raw, &received, i] { received[static_cast<std::size_t>(i)] += raw->readAll(); });
        connect(raw, &QTcpSocket::connected, this, [raw, &payload] { raw->write(payload); });
        raw->connectToHost(QHostAddress::LocalHost, server.serverPort());
        clients.push_back(std::move(client));
    }
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(received.begin(), received.end(),
                                         [&](const QByteArray &r) { return r.size() >= payload.size(); }),
                             20000);
    for (const auto &r : received)
        QVERIFY(r == payload);

    // Orderly close from the client side reaches the server.
    QSignalSpy disconnected(accepted.front().get(), &QTcpSocket::disconnected);
    clients.front()->disconnectFromHost();
    QVERIFY(disconnected.wait(5000));
}

void TestEpollDispatcher::tenThousandConcurrentTimers()
{
    constexpr int kTimers = 10000;
    TimerRecorder recorder;
    recorder.killOnFire = true;
    std::vector<int> ids;
    ids.reserve(kTimers);
    for (int i = 0; i < kTimers; ++i)
        ids.push_back(recorder.startTimer(std::chrono::milliseconds(1 + i % 200), Qt::PreciseTimer));
    QCOMPARE(dispatcher()->registeredTimers(&recorder).size(), kTimers);

    // Plus repeating timers on their own objects, killed by destroying the objects.
    std::vector<std::unique_ptr<QTimer>> repeating;
    int repeatingShots = 0;
    for (int i = 0; i < 1000; ++i) {
        auto timer = std::make_unique<QTimer>();
        connect(timer.get(), &QTimer::timeout, this, [&] { ++repeatingShots; });
        timer->start(5 + i % 20);
        repeating.push_back(std::move(timer));
    }

    QTRY_COMPARE_WITH_TIMEOUT(recorder.fired.size(), std::size_t{kTimers}, 20000);
    std::vector<int> sortedFired = recorder.fired;
    std::sort(sortedFired.begin(), sortedFired.end());
    std::sort(ids.begin(), ids.end());
    QCOMPARE(sortedFired, ids); // each exactly once
    QVERIFY(dispatcher()->registeredTimers(&recorder).isEmpty());
    QVERIFY(repeatingShots > 1000);
    repeating.clear();
    const int shotsAfterClear = repeatingShots;
    QTest::qWait(50);
    QCOMPARE(repeatingShots, shotsAfterClear);
}

int main(int argc, char *argv[])
{
    QCoreApplication::setEventDispatcher(new EpollEventDispatcher);
    QCoreApplication app(argc, argv);
    TestEpollDispatcher test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_epolldispatcher.moc"
