// ExternalProcess against real commands: the Node reference origin, commands that fail,
// exit early, never listen, ignore SIGTERM or leave children behind.
#include "core/external/externalprocess.h"
#include "tests/support/scenariofiles.h"

#include <QTemporaryDir>
#include <QtTest>

#include <csignal>

using namespace edgesse::external;
using namespace std::chrono_literals;

namespace {

QString originScript()
{
    return edgesse::testing::sourceDir() + QStringLiteral("/scenarios/servers/sse-origin.mjs");
}

} // namespace

class TestExternalProcess final : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    ProcessSpec spec(const QString &name, const QString &command, quint16 port)
    {
        ProcessSpec s;
        s.name = name;
        s.command = command;
        s.workingDirectory = m_dir.path();
        s.stdoutPath = m_dir.filePath(name + QStringLiteral(".stdout.log"));
        s.stderrPath = m_dir.filePath(name + QStringLiteral(".stderr.log"));
        s.port = port;
        s.readyTimeout = 5000ms;
        s.stopGrace = 1000ms;
        return s;
    }

    static quint16 port()
    {
        QString error;
        const quint16 p = freeLoopbackPort(&error);
        if (p == 0)
            qFatal("%s", qPrintable(error));
        return p;
    }

private slots:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void startsListensAndStopsTheNodeOrigin()
    {
        const quint16 p = port();
        ExternalProcess process(spec(QStringLiteral("origin"), QStringLiteral("node %1 --port %2").arg(originScript()).arg(p), p));
        QString error;
        QVERIFY2(process.start(&error), qPrintable(error));
        QVERIFY(acceptsConnections(p));
        const pid_t group = process.processGroup();
        QVERIFY(!processGroupMembers(group).empty());
        QCOMPARE(process.stop(), QString()); // the origin exits on SIGTERM
        QVERIFY(processGroupMembers(group).empty());
        QVERIFY(!acceptsConnections(p));
        QVERIFY(lastLines(m_dir.filePath(QStringLiteral("origin.stdout.log")), 1).join(QString()).contains(QStringLiteral("listening on port %1").arg(p)));
    }

    void failures_data()
    {
        QTest::addColumn<QString>("command");
        QTest::addColumn<int>("readyMs");
        QTest::addColumn<QStringList>("expected"); // each must appear in the error
        QTest::newRow("command not found") << QStringLiteral("no-such-server-binary --port {port}") << 5000
                                           << QStringList{QStringLiteral("no-such-server-binary"), QStringLiteral("exited with status 127"), QStringLiteral("not found")};
        QTest::newRow("exits early") << QStringLiteral("echo starting; echo 'config error: bad port' >&2; exit 3") << 5000
                                     << QStringList{QStringLiteral("exited with status 3 before it listened"), QStringLiteral("config error: bad port"), QStringLiteral("stdout| starting")};
        QTest::newRow("never listens") << QStringLiteral("echo waiting forever; exec sleep 30") << 400
                                       << QStringList{QStringLiteral("did not listen on port"), QStringLiteral("within 400 ms"), QStringLiteral("waiting forever")};
        QTest::newRow("node script fails") << QStringLiteral("node %1").arg(originScript()) << 5000
                                           << QStringList{QStringLiteral("exited with status 2"), QStringLiteral("--port P is required")};
    }
    void failures()
    {
        QFETCH(QString, command);
        QFETCH(int, readyMs);
        QFETCH(QStringList, expected);
        const quint16 p = port();
        ProcessSpec s = spec(QStringLiteral("bad"), command, p);
        s.readyTimeout = std::chrono::milliseconds(readyMs);
        ExternalProcess process(s);
        QString error;
        QVERIFY(!process.start(&error));
        QVERIFY2(error.contains(command), qPrintable(error));
        for (const QString &e : expected)
            QVERIFY2(error.contains(e), qPrintable(QStringLiteral("missing \"%1\" in: %2").arg(e, error)));
        QVERIFY(processGroupMembers(process.processGroup()).empty());
        QFile::remove(s.stdoutPath);
        QFile::remove(s.stderrPath);
    }

    // It listens but ignores SIGTERM, and forks children that would outlive it: stop() kills
    // the whole group after the grace period and says so.
    void ignoresSigtermAndLeavesChildren()
    {
        const quint16 p = port();
        const QString command = QStringLiteral("sleep 60 & sleep 61 & exec node -e \"process.on('SIGTERM', () => console.log('ignoring SIGTERM')); "
                                               "require('net').createServer().listen(%1, '127.0.0.1')\"").arg(p);
        ProcessSpec s = spec(QStringLiteral("stubborn"), command, p);
        s.stopGrace = 300ms;
        ExternalProcess process(s);
        QString error;
        QVERIFY2(process.start(&error), qPrintable(error));
        const pid_t group = process.processGroup();
        QCOMPARE(processGroupMembers(group).size(), std::size_t(3));
        const auto before = std::chrono::steady_clock::now();
        const QString note = process.stop();
        QVERIFY2(note.contains(QStringLiteral("300 ms after SIGTERM and was killed")), qPrintable(note));
        QVERIFY(std::chrono::steady_clock::now() - before < 3s);
        QVERIFY(processGroupMembers(group).empty());
        QTRY_VERIFY_WITH_TIMEOUT(lastLines(s.stdoutPath, 1).join(QString()).contains(QStringLiteral("ignoring SIGTERM")), 2000);
    }

    // The leader exits but a child it left keeps the port: stop() still ends the group.
    void leaderGoneChildrenRemain()
    {
        const quint16 p = port();
        ProcessSpec s = spec(QStringLiteral("forker"), QStringLiteral("node %1 --port %2 & exit 0").arg(originScript()).arg(p), p);
        ExternalProcess process(s);
        QString error;
        QVERIFY2(process.start(&error), qPrintable(error));
        const pid_t group = process.processGroup();
        QTRY_VERIFY(!process.running());
        QVERIFY(!processGroupMembers(group).empty());
        QCOMPARE(process.stop(), QString());
        QVERIFY(processGroupMembers(group).empty());
    }

    void cancelledWhileWaiting()
    {
        ExternalProcess process(spec(QStringLiteral("slow"), QStringLiteral("exec sleep 30"), port()));
        QString error;
        int polls = 0;
        QVERIFY(!process.start(&error, [&] { return ++polls > 3; }));
        QVERIFY2(error.contains(QStringLiteral("cancelled")), qPrintable(error));
        QVERIFY(processGroupMembers(process.processGroup()).empty());
    }
};

QTEST_GUILESS_MAIN(TestExternalProcess)
#include "tst_external_process.moc"
