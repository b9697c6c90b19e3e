// A run can be cancelled at any moment — while it sets up, in warm-up, while it measures,
// while it drains — and leaves no descriptor, thread or listening port behind.

#include "core/scenario/scenario.h"
#include "core/sim/run.h"
#include "core/sim/runcontroller.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <atomic>
#include <chrono>

using namespace std::chrono_literals;
using namespace edgesse;

namespace {

int entriesIn(const char *dir)
{
    return int(QDir(QString::fromUtf8(dir)).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System).size());
}
int openDescriptors() { return entriesIn("/proc/self/fd"); }
int threadCount() { return entriesIn("/proc/self/task"); }
QStringList threadNames()
{
    QStringList names;
    for (const QString &task : QDir(QStringLiteral("/proc/self/task")).entryList(QDir::AllEntries | QDir::NoDotAndDotDot)) {
        QFile comm(QStringLiteral("/proc/self/task/%1/comm").arg(task));
        if (comm.open(QIODevice::ReadOnly))
            names << QString::fromUtf8(comm.readAll().trimmed());
    }
    return names;
}

scenario::Scenario tinyScenario()
{
    const auto loaded = scenario::load(QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/tiny.yaml"));
    if (!loaded.ok())
        qFatal("tests/data/sim/tiny.yaml does not load");
    return *loaded.scenario;
}

bool portIsFree(quint16 port)
{
    QTcpServer server;
    return server.listen(QHostAddress::LocalHost, port);
}

enum class CancelAt { Immediately, Ready, WarmUp, Measuring, Draining };

} // namespace

Q_DECLARE_METATYPE(CancelAt)

class TestSimLifecycle final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void cancelLeavesNothingBehind_data();
    void cancelLeavesNothingBehind();
    void controllerCancelLeavesNothingBehind();
    void stopEndsAnOpenEndedRunWithAResult();
    void timeLeftIsInWallTime();

private:
    int m_baseFds = 0;
    int m_baseThreads = 0;
};

void TestSimLifecycle::initTestCase()
{
    // One complete short run first, so whatever Qt creates once per process (the
    // network stack's statics, the event dispatcher's helpers) is part of the baseline.
    scenario::Variant v = *tinyScenario().variant(QStringLiteral("central"));
    v.warmup = 0us;
    v.duration = 200ms;
    sim::Run::Settings settings;
    settings.simulatedClients = false;
    sim::Run run(v, settings);
    std::atomic<bool> finished{false};
    connect(&run, &sim::Run::finished, &run, [&] { finished = true; }, Qt::DirectConnection);
    run.start();
    run.wait();
    QVERIFY(finished);
    // A joined thread's task can linger in /proc a moment after join returns (its exit
    // handlers still running): the baseline is taken once the run's net threads are gone.
    QTRY_VERIFY_WITH_TIMEOUT(!threadNames().join(QLatin1Char(' ')).contains(QStringLiteral("net-")), 2000);
    m_baseFds = openDescriptors();
    m_baseThreads = threadCount();
}

void TestSimLifecycle::cancelLeavesNothingBehind_data()
{
    QTest::addColumn<CancelAt>("at");
    QTest::addColumn<bool>("simulatedClients");
    for (const bool clients : {false, true}) {
        const char *suffix = clients ? "browsers" : "serve";
        QTest::addRow("immediately, %s", suffix) << CancelAt::Immediately << clients;
        QTest::addRow("when ready, %s", suffix) << CancelAt::Ready << clients;
        QTest::addRow("in warm-up, %s", suffix) << CancelAt::WarmUp << clients;
        QTest::addRow("measuring, %s", suffix) << CancelAt::Measuring << clients;
        QTest::addRow("draining, %s", suffix) << CancelAt::Draining << clients;
    }
}

void TestSimLifecycle::cancelLeavesNothingBehind()
{
    QFETCH(CancelAt, at);
    QFETCH(bool, simulatedClients);

    scenario::Variant v = *tinyScenario().variant(QStringLiteral("central"));
    v.warmup = 500ms;
    v.duration = 1s;
    // A slow path so the drain (3 × the slowest path) lasts long enough to cancel in it.
    for (auto &l : v.links)
        l.latency = 150ms;

    sim::Run::Settings settings;
    settings.simulatedClients = simulatedClients;
    QList<quint16> ports;
    {
        sim::Run run(v, settings);
        std::atomic<bool> ready{false}, cancelled{false}, finished{false}, failed{false};
        std::atomic<double> progress{0};
        QString failure;
        connect(&run, &sim::Run::ready, &run, [&] {
            ready = true;
            if (at == CancelAt::Ready)
                run.cancel();
        }, Qt::DirectConnection);
        connect(&run, &sim::Run::progressed, &run, [&](double f) { progress = f; }, Qt::DirectConnection);
        connect(&run, &sim::Run::cancelled, &run, [&] { cancelled = true; }, Qt::DirectConnection);
        connect(&run, &sim::Run::finished, &run, [&] { finished = true; }, Qt::DirectConnection);
        connect(&run, &sim::Run::failed, &run, [&](const QString &reason) {
            failure = reason;
            failed = true;
        }, Qt::DirectConnection);

        run.start();
        QTcpSocket viewer; // the user's own client on the population's URL, in serve mode
        switch (at) {
        case CancelAt::Immediately:
            run.cancel();
            break;
        case CancelAt::Ready:
            break;
        case CancelAt::WarmUp:
            QTRY_VERIFY_WITH_TIMEOUT(ready || failed, 10000);
            QVERIFY2(!failed, qPrintable(failure));
            run.cancel();
            break;
        case CancelAt::Measuring:
            QTRY_VERIFY_WITH_TIMEOUT(progress > 0.6 || failed, 10000);
            QVERIFY2(!failed, qPrintable(failure));
            if (!simulatedClients) {
                const QUrl url = run.endpoints().constLast().url;
                viewer.connectToHost(QHostAddress::LocalHost, quint16(url.port()));
                QVERIFY(viewer.waitForConnected(5000));
                viewer.write("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
                QVERIFY(viewer.waitForReadyRead(5000));
                QVERIFY(viewer.readAll().startsWith("HTTP/1.1 200"));
            }
            run.cancel();
            break;
        case CancelAt::Draining:
            QTRY_VERIFY_WITH_TIMEOUT(progress >= 1.0 || failed, 10000);
            QVERIFY2(!failed, qPrintable(failure));
            run.cancel();
            break;
        }
        run.wait();
        QVERIFY2(!failed, qPrintable(failure));
        QVERIFY(cancelled);
        QVERIFY(!finished);
        if (ready) {
            for (const auto &endpoint : run.endpoints())
                ports.push_back(quint16(endpoint.url.port()));
        }
        if (viewer.state() != QAbstractSocket::UnconnectedState) {
            // The topology closed the user's connection too.
            QVERIFY(viewer.state() == QAbstractSocket::UnconnectedState || viewer.waitForDisconnected(5000));
        }
    }
    for (const quint16 port : ports)
        QVERIFY2(portIsFree(port), qPrintable(QStringLiteral("port %1 still taken").arg(port)));
    QTRY_COMPARE_WITH_TIMEOUT(threadCount(), m_baseThreads, 2000); // an exiting thread lingers in /proc briefly
    QCOMPARE(openDescriptors(), m_baseFds);
}

void TestSimLifecycle::controllerCancelLeavesNothingBehind()
{
    const scenario::Scenario s = tinyScenario();
    sim::RunController controller;
    QSignalSpy cancelled(&controller, &sim::RunController::cancelled);
    QSignalSpy finished(&controller, &sim::RunController::finished);
    QSignalSpy failed(&controller, &sim::RunController::failed);
    QSignalSpy progress(&controller, &sim::RunController::progressChanged);
    sim::RunOptions options;
    options.duration = 5s;
    options.warmup = 100ms;
    controller.start(s, {QStringLiteral("central")}, options);
    QVERIFY(controller.isRunning());
    // Cancel once the variant is under way.
    QTRY_VERIFY_WITH_TIMEOUT(progress.count() >= 5 || !failed.isEmpty(), 10000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.first().first().toString()));
    const auto asked = std::chrono::steady_clock::now();
    controller.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, 5000);
    const auto took = std::chrono::steady_clock::now() - asked;
    QVERIFY2(took < 2s, qPrintable(QString::number(std::chrono::duration<double>(took).count())));
    QVERIFY(!controller.isRunning());
    QCOMPARE(finished.count(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(threadCount(), m_baseThreads, 2000); // an exiting thread lingers in /proc briefly
    QCOMPARE(openDescriptors(), m_baseFds);

    // Cancelling before the first variant started is just as clean.
    controller.start(s, {}, options);
    controller.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 2, 5000);
    QVERIFY(!controller.isRunning());
    QTRY_COMPARE_WITH_TIMEOUT(threadCount(), m_baseThreads, 2000); // an exiting thread lingers in /proc briefly
    QCOMPARE(openDescriptors(), m_baseFds);
}

void TestSimLifecycle::stopEndsAnOpenEndedRunWithAResult()
{
    scenario::Variant v = *tinyScenario().variant(QStringLiteral("central"));
    v.warmup = 0us;
    v.duration = 0us;
    sim::Run::Settings settings;
    settings.simulatedClients = false;
    settings.openEnded = true;
    sim::Run run(v, settings);
    std::atomic<double> progressCalls{0};
    std::atomic<bool> finished{false};
    connect(&run, &sim::Run::progressed, &run, [&](double) { progressCalls = progressCalls + 1; }, Qt::DirectConnection);
    connect(&run, &sim::Run::finished, &run, [&] { finished = true; }, Qt::DirectConnection);
    run.start();
    QTRY_VERIFY_WITH_TIMEOUT(progressCalls >= 5, 10000); // half a second up, open-ended
    QVERIFY(!finished);
    run.stop();
    run.wait();
    QVERIFY(finished);
    QVERIFY(run.result().events.published > 0);
    QTRY_COMPARE_WITH_TIMEOUT(threadCount(), m_baseThreads, 2000); // an exiting thread lingers in /proc briefly
    QCOMPARE(openDescriptors(), m_baseFds);
}

void TestSimLifecycle::timeLeftIsInWallTime()
{
    // 1 s warm-up + 2 s measured at time scale 3 take 9 wall seconds: that is the time left
    // at the start, not the 3 modelled ones.
    const scenario::Scenario s = tinyScenario();
    sim::RunController controller;
    QSignalSpy progress(&controller, &sim::RunController::progressChanged);
    QSignalSpy cancelled(&controller, &sim::RunController::cancelled);
    sim::RunOptions options;
    options.duration = 2s;
    options.warmup = 1s;
    options.timeScale = 3;
    controller.start(s, {QStringLiteral("central")}, options);
    QTRY_VERIFY_WITH_TIMEOUT(!progress.isEmpty(), 10000);
    QCOMPARE(progress.first().at(2).value<std::chrono::seconds>(), 9s);
    controller.cancel();
    QTRY_COMPARE_WITH_TIMEOUT(cancelled.count(), 1, 5000);
}

QTEST_GUILESS_MAIN(TestSimLifecycle)
#include "tst_sim_lifecycle.moc"
