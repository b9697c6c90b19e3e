// The command line under load and at the machine's limits: `edgesse run` and `edgesse serve`
// stop within 2 s of SIGINT or SIGTERM whatever the load (here a publisher asked for 100,000
// events a second, more than the machine can publish), and serve's descriptor check counts
// what serve opens, not browsers it never opens.
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

#include <csignal>

#include <sys/resource.h>

class TestCliLimits final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void stopsWithinTwoSeconds_data();
    void stopsWithinTwoSeconds();
    void serveIsNotRefusedForBrowsersItNeverOpens();

private:
    QString m_exe;
    QString m_scenario;
};

namespace {

constexpr qint64 kStopBoundMs = 2000;

// Reads the process's output until `done` says so or `ms` pass.
template<class Done>
bool readUntil(QProcess &p, int ms, Done done)
{
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < ms && p.state() == QProcess::Running) {
        if (done())
            return true;
        p.waitForReadyRead(50);
    }
    return done();
}

} // namespace

void TestCliLimits::initTestCase()
{
    m_exe = QStringLiteral(EDGESSE_BINARY_DIR "/app/edgesse");
    QVERIFY2(QFile::exists(m_exe), "build the edgesse target first");
    m_scenario = QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/overloaded.yaml");
}

void TestCliLimits::stopsWithinTwoSeconds_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<int>("signal");

    QTest::newRow("run, SIGINT") << QStringLiteral("run") << SIGINT;
    QTest::newRow("run, SIGTERM") << QStringLiteral("run") << SIGTERM;
    QTest::newRow("serve, SIGINT") << QStringLiteral("serve") << SIGINT;
    QTest::newRow("serve, SIGTERM") << QStringLiteral("serve") << SIGTERM;
}

void TestCliLimits::stopsWithinTwoSeconds()
{
    QFETCH(QString, command);
    QFETCH(int, signal);
    QTemporaryDir out;
    QProcess p;
    // run: the 2 s the scenario asks for; serve: long enough that only the signal ends it.
    QStringList args{command, m_scenario, QStringLiteral("--duration"),
                     command == QLatin1String("run") ? QStringLiteral("2s") : QStringLiteral("30s")};
    if (command == QLatin1String("run"))
        args << QStringLiteral("--out") << out.path();
    p.start(m_exe, args);
    QVERIFY(p.waitForStarted());

    // Under way: a run reports progress; serve prints its endpoints, and 50 readers that
    // never read connect to the population's URL.
    QByteArray stdOut, stdErr;
    std::vector<std::unique_ptr<QTcpSocket>> readers;
    if (command == QLatin1String("run")) {
        QVERIFY2(readUntil(p, 30'000, [&] { return (stdErr += p.readAllStandardError()).contains("%"); }), stdErr.constData());
    } else {
        QVERIFY2(readUntil(p, 30'000, [&] { return (stdOut += p.readAllStandardOutput()).contains("crowd http"); }), stdOut.constData());
        const qsizetype at = stdOut.indexOf("crowd ") + 6;
        const QUrl url(QString::fromUtf8(stdOut.mid(at, stdOut.indexOf('\n', at) - at)));
        for (int i = 0; i < 50; ++i) {
            auto socket = std::make_unique<QTcpSocket>();
            socket->setReadBufferSize(1);
            socket->connectToHost(url.host(), quint16(url.port()));
            socket->write("GET /events HTTP/1.1\r\nHost: a\r\n\r\n");
            readers.push_back(std::move(socket));
        }
    }
    QTest::qWait(1000);
    QCOMPARE(p.state(), QProcess::Running);

    QElapsedTimer stopping;
    stopping.start();
    ::kill(pid_t(p.processId()), signal);
    const bool ended = p.waitForFinished(int(kStopBoundMs) + 8000);
    const qint64 tookMs = stopping.elapsed();
    if (!ended) {
        p.kill();
        p.waitForFinished(5000);
    }
    stdErr += p.readAllStandardError();
    qInfo("%s stopped %lld ms after the signal", qPrintable(command), tookMs);
    QVERIFY2(ended, qPrintable(QStringLiteral("still running %1 ms after the signal: %2").arg(tookMs).arg(QString::fromUtf8(stdErr))));
    QVERIFY2(tookMs <= kStopBoundMs, qPrintable(QStringLiteral("took %1 ms to stop").arg(tookMs)));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 130);
}

void TestCliLimits::serveIsNotRefusedForBrowsersItNeverOpens()
{
    // With 1,024 descriptors: 300 browsers need 300 × 4 + 256 = 1,456, so validate (and run)
    // refuse the scenario; serve opens two listeners and no browser, so it comes up.
    const QString crowd = QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/crowd.yaml");
    auto withFewDescriptors = [](QProcess &p) {
        p.setChildProcessModifier([] {
            const rlimit limit{1024, 1024};
            ::setrlimit(RLIMIT_NOFILE, &limit);
        });
    };
    QProcess validate;
    withFewDescriptors(validate);
    validate.start(m_exe, {QStringLiteral("validate"), crowd});
    QVERIFY(validate.waitForFinished(30'000));
    const QByteArray refused = validate.readAllStandardError();
    QCOMPARE(validate.exitCode(), 2);
    QVERIFY2(refused.contains("opens 300 connections") && refused.contains("1456"), refused.constData());

    QProcess serve;
    withFewDescriptors(serve);
    serve.start(m_exe, {QStringLiteral("serve"), crowd, QStringLiteral("--duration"), QStringLiteral("30s")});
    QVERIFY(serve.waitForStarted());
    QByteArray stdOut;
    QVERIFY2(readUntil(serve, 30'000, [&] { return (stdOut += serve.readAllStandardOutput()).contains("crowd http"); }),
             serve.readAllStandardError().constData());
    ::kill(pid_t(serve.processId()), SIGTERM);
    QVERIFY(serve.waitForFinished(10'000));
    QCOMPARE(serve.exitCode(), 130);
}

QTEST_GUILESS_MAIN(TestCliLimits)
#include "tst_cli_limits.moc"
