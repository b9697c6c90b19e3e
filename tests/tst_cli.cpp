// `edgesse run` and `edgesse serve` end to end through the built binary; curl receives
// events from a URL that serve printed.

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTest>

#include <QElapsedTimer>

#include <sys/mount.h>

#include <cmath>
#include <csignal>
#include <cstring>

class TestCli final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void runWritesResultsAndPrintsSummary();
    void autoTimeScaleReportsScaleAndError_data();
    void autoTimeScaleReportsScaleAndError();
    void runRejectsBadArguments_data();
    void runRejectsBadArguments();
    void serveKeepsTheTopologyUpForCurl();
    void unwritableOutRefusedBeforeTheRun_data();
    void unwritableOutRefusedBeforeTheRun();
    void symbolicLinkInOutUntouched();
    void fullDiskKeepsTheEarlierRun();
    void noDisplaySaysSo_data();
    void noDisplaySaysSo();
    void unknownCommandWord();

private:
    QString m_exe;
    QString m_tiny;
};

void TestCli::initTestCase()
{
    m_exe = QStringLiteral(EDGESSE_BINARY_DIR "/app/edgesse");
    QVERIFY2(QFile::exists(m_exe), "build the edgesse target first");
    m_tiny = QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/tiny.yaml");
}

void TestCli::runWritesResultsAndPrintsSummary()
{
    QTemporaryDir out;
    QTemporaryDir tmp;
    QProcess p;
    // As root in a container or a CI job: no XDG_RUNTIME_DIR. The run says nothing about it.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("XDG_RUNTIME_DIR"));
    env.insert(QStringLiteral("TMPDIR"), tmp.path());
    p.setProcessEnvironment(env);
    p.start(m_exe, {QStringLiteral("run"), m_tiny, QStringLiteral("--out"), out.path(), QStringLiteral("--duration"),
                    QStringLiteral("1s"), QStringLiteral("--seed"), QStringLiteral("9")});
    QVERIFY(p.waitForFinished(60'000));
    const QString stdOut = QString::fromUtf8(p.readAllStandardOutput());
    const QString stdErr = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(stdErr));
    QVERIFY2(!stdErr.contains(QStringLiteral("XDG_RUNTIME_DIR")), qPrintable(stdErr));
    QVERIFY(stdOut.contains(QStringLiteral("p99 ms")));
    QVERIFY(stdOut.contains(QStringLiteral("central")));
    QVERIFY(stdOut.contains(QStringLiteral("edge")));

    QFile json(QDir(out.path()).filePath(QStringLiteral("results.json")));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject root = QJsonDocument::fromJson(json.readAll()).object();
    QCOMPARE(root[QStringLiteral("scenario")].toObject()[QStringLiteral("seed")].toInteger(), 9);
    const QJsonArray variants = root[QStringLiteral("variants")].toArray();
    QCOMPARE(variants.size(), 2);
    for (const auto &value : variants) {
        const QJsonObject events = value.toObject()[QStringLiteral("events")].toObject();
        QVERIFY(events[QStringLiteral("delivered")].toInteger() > 0);
        QCOMPARE(events[QStringLiteral("delivered")].toInteger() + events[QStringLiteral("lost")].toInteger(),
                 events[QStringLiteral("expected")].toInteger());
    }
    const QStringList files = QDir(out.path()).entryList(QDir::Files);
    QVERIFY(files.filter(QStringLiteral(".csv")).size() >= 3);
    QVERIFY(files.filter(QStringLiteral(".png")).size() >= 6);
    QVERIFY(files.filter(QStringLiteral(".svg")).size() >= 6);
}

void TestCli::autoTimeScaleReportsScaleAndError_data()
{
    QTest::addColumn<QString>("tolerance");
    QTest::addColumn<bool>("mustBeOne");
    // Any error below a second is within a 1 s tolerance: the first calibration, at scale 1, decides.
    QTest::newRow("1 s tolerance: scale 1") << QStringLiteral("1s") << true;
    QTest::newRow("default 1 ms tolerance") << QString() << false;
}

// autoscale.yaml: berlin -> origin 15 ms +- 1 ms, a 200 ms warm-up, 100 events/s to 2 browsers,
// so every calibration and the run (500 ms measured) are short at any scale. Whatever scale auto
// picks, the figures are in modelled time (latency p50 near 15 ms, 0.5 s measured), the
// measured window took scale x 0.5 s of wall time, and the CLI and results.json name the same scale.
void TestCli::autoTimeScaleReportsScaleAndError()
{
    QFETCH(QString, tolerance);
    QFETCH(bool, mustBeOne);
    constexpr double kWarmupS = 0.2;
    constexpr double kMeasuredS = 0.5;
    QTemporaryDir out;
    QStringList args{QStringLiteral("run"), QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/autoscale.yaml"),
                     QStringLiteral("--out"), out.path(), QStringLiteral("--variant"), QStringLiteral("central"),
                     QStringLiteral("--duration"), QStringLiteral("500ms"), QStringLiteral("--time-scale"),
                     QStringLiteral("auto")};
    if (!tolerance.isEmpty())
        args << QStringLiteral("--tolerance") << tolerance;
    QProcess p;
    QElapsedTimer wall;
    wall.start();
    p.start(m_exe, args);
    QVERIFY(p.waitForFinished(300'000));
    const double wallS = double(wall.elapsed()) / 1000.0;
    const QString stdOut = QString::fromUtf8(p.readAllStandardOutput());
    const QString stdErr = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, qPrintable(stdErr));
    QVERIFY2(stdErr.contains(QStringLiteral("calibrating the time scale")), qPrintable(stdErr));

    QFile json(QDir(out.path()).filePath(QStringLiteral("results.json")));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const QJsonObject v = QJsonDocument::fromJson(json.readAll()).object()[QStringLiteral("variants")].toArray()[0].toObject();
    const double scale = v[QStringLiteral("time_scale")].toDouble();
    QVERIFY2(scale >= 1.0 && scale == std::floor(scale), qPrintable(QString::number(scale)));
    if (mustBeOne)
        QCOMPARE(scale, 1.0);
    QVERIFY(!v[QStringLiteral("time_scale_note")].toString().isEmpty());
    const QString scaleText = QStringLiteral("time scale %1").arg(scale, 0, 'g', 6);
    QVERIFY2(stdErr.contains(scaleText), qPrintable(stdErr));
    QVERIFY2(stdOut.contains(QStringLiteral("central: ") + scaleText + QStringLiteral(", error p99 ")), qPrintable(stdOut));
    QCOMPARE(v[QStringLiteral("duration_s")].toDouble(), kMeasuredS);
    const double measuredWall = v[QStringLiteral("wall_s")].toDouble();
    QVERIFY2(measuredWall >= scale * kMeasuredS * 0.98 && measuredWall <= scale * kMeasuredS * 1.5 + 0.5,
             qPrintable(QString::number(measuredWall)));
    QVERIFY2(wallS >= scale * (kWarmupS + kMeasuredS), qPrintable(QStringLiteral("%1 s for scale %2").arg(wallS).arg(scale)));
    const double p50 = v[QStringLiteral("latency_ms")].toObject()[QStringLiteral("p50")].toDouble();
    QVERIFY2(p50 >= 14.0 && p50 <= 17.0 + 2.0, qPrintable(QString::number(p50)));
    const QJsonObject error = v[QStringLiteral("error_ms")].toObject();
    QVERIFY(error[QStringLiteral("count")].toInteger() > 0);
    const QRegularExpressionMatch said = QRegularExpression(QStringLiteral("error p99 ([0-9.]+) ms, tolerance")).match(stdErr);
    QVERIFY2(said.hasMatch(), qPrintable(stdErr));
    QVERIFY(std::abs(said.captured(1).toDouble() - error[QStringLiteral("p99")].toDouble()) <= 0.0015);
}

void TestCli::runRejectsBadArguments_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("message");
    const QString tiny = QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/sim/tiny.yaml");
    QTest::newRow("no file") << QStringList{QStringLiteral("run")} << QStringLiteral("missing the scenario FILE");
    QTest::newRow("bad duration") << QStringList{QStringLiteral("run"), tiny, QStringLiteral("--duration"), QStringLiteral("fast")}
                                  << QStringLiteral("--duration");
    QTest::newRow("unknown variant") << QStringList{QStringLiteral("run"), tiny, QStringLiteral("--variant"), QStringLiteral("nope")}
                                     << QStringLiteral("no variant named \"nope\"");
    QTest::newRow("unknown option") << QStringList{QStringLiteral("serve"), tiny, QStringLiteral("--frobnicate")}
                                    << QStringLiteral("unknown option");
    QTest::newRow("missing file") << QStringList{QStringLiteral("run"), QStringLiteral("/nonexistent.yaml")}
                                  << QStringLiteral("nonexistent.yaml");
}

void TestCli::runRejectsBadArguments()
{
    QFETCH(QStringList, args);
    QFETCH(QString, message);
    QProcess p;
    p.start(m_exe, args);
    QVERIFY(p.waitForFinished(30'000));
    QCOMPARE(p.exitCode(), 2);
    const QString stdErr = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(stdErr.contains(message), qPrintable(stdErr));
}

void TestCli::serveKeepsTheTopologyUpForCurl()
{
    const QString curl = QStandardPaths::findExecutable(QStringLiteral("curl"));
    if (curl.isEmpty())
        QSKIP("curl is not installed");
    QProcess serve;
    serve.start(m_exe, {QStringLiteral("serve"), m_tiny, QStringLiteral("--variant"), QStringLiteral("central"),
                        QStringLiteral("--duration"), QStringLiteral("60s")});
    QVERIFY(serve.waitForStarted());
    QMap<QString, QString> urls;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            while (serve.canReadLine()) {
                const QStringList words = QString::fromUtf8(serve.readLine()).trimmed().split(QLatin1Char(' '));
                if (words.size() == 2)
                    urls.insert(words[0], words[1]);
            }
            return urls.contains(QStringLiteral("berlin"));
        }(),
        20'000);
    QVERIFY(urls.contains(QStringLiteral("origin")));

    // Through the population's link: events arrive with ids.
    QProcess client;
    client.start(curl, {QStringLiteral("-sN"), QStringLiteral("--max-time"), QStringLiteral("3"), urls.value(QStringLiteral("berlin"))});
    QVERIFY(client.waitForFinished(15'000));
    const QString body = QString::fromUtf8(client.readAllStandardOutput());
    QVERIFY2(body.count(QStringLiteral("id: ")) >= 10, qPrintable(body.left(400)));

    // HTTP/2 with prior knowledge straight at the origin.
    QProcess h2;
    h2.start(curl, {QStringLiteral("-sN"), QStringLiteral("--http2-prior-knowledge"), QStringLiteral("--max-time"),
                    QStringLiteral("2"), urls.value(QStringLiteral("origin"))});
    QVERIFY(h2.waitForFinished(15'000));
    QVERIFY(QString::fromUtf8(h2.readAllStandardOutput()).contains(QStringLiteral("data: ")));

    // SIGTERM before --duration: an orderly stop, exit 130.
    ::kill(pid_t(serve.processId()), SIGTERM);
    QVERIFY(serve.waitForFinished(15'000));
    QCOMPARE(serve.exitStatus(), QProcess::NormalExit);
    QCOMPARE(serve.exitCode(), 130);
}


namespace {

// `edgesse run` on the tiny scenario into `out`; exit code and stderr.
QPair<int, QString> runInto(const QString &exe, const QString &scenario, const QString &out)
{
    QProcess p;
    p.start(exe, {QStringLiteral("run"), scenario, QStringLiteral("--out"), out, QStringLiteral("--duration"), QStringLiteral("1s")});
    if (!p.waitForFinished(120'000))
        return {-1, QStringLiteral("timed out")};
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardError())};
}

QMap<QString, QByteArray> snapshot(const QString &dir)
{
    QMap<QString, QByteArray> files;
    for (const QString &name : QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System)) {
        QFile f(QDir(dir).filePath(name));
        if (f.open(QIODevice::ReadOnly))
            files.insert(name, f.readAll());
    }
    return files;
}

} // namespace

void TestCli::unwritableOutRefusedBeforeTheRun_data()
{
    QTest::addColumn<bool>("readOnlyMount");
    QTest::newRow("under a file") << false;
    QTest::newRow("read-only file system") << true;
}

// Refused in the time it takes to load the scenario, not after every variant has run.
void TestCli::unwritableOutRefusedBeforeTheRun()
{
    QFETCH(bool, readOnlyMount);
    QTemporaryDir dir;
    QString out;
    if (readOnlyMount) {
        if (::mount("tmpfs", QFile::encodeName(dir.path()).constData(), "tmpfs", MS_RDONLY, "size=64k") != 0)
            QSKIP(qPrintable(QStringLiteral("mounting a tmpfs needs root (%1)").arg(QString::fromLocal8Bit(std::strerror(errno)))));
        out = QDir(dir.path()).filePath(QStringLiteral("out"));
    } else {
        QFile file(QDir(dir.path()).filePath(QStringLiteral("plain")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        out = file.fileName() + QStringLiteral("/out");
    }
    QElapsedTimer timer;
    timer.start();
    const auto [code, err] = runInto(m_exe, m_tiny, out);
    const qint64 elapsed = timer.elapsed();
    if (readOnlyMount)
        ::umount2(QFile::encodeName(dir.path()).constData(), MNT_DETACH);
    QCOMPARE(code, 2);
    QVERIFY2(err.contains(QStringLiteral("--out: cannot create the directory"))
                 && err.contains(readOnlyMount ? QStringLiteral("Read-only file system") : QStringLiteral("Not a directory")),
             qPrintable(err));
    QVERIFY2(!err.contains(QStringLiteral("done")), qPrintable(err));
    QVERIFY2(elapsed < 5000, qPrintable(QString::number(elapsed))); // a run of the two variants takes about 8 s
}

void TestCli::symbolicLinkInOutUntouched()
{
    QTemporaryDir out;
    QTemporaryDir elsewhere;
    const QString victim = QDir(elsewhere.path()).filePath(QStringLiteral("precious.json"));
    QFile f(victim);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("keep me");
    f.close();
    const QString link = QDir(out.path()).filePath(QStringLiteral("summary.csv"));
    QVERIFY(QFile::link(victim, link));
    const auto [code, err] = runInto(m_exe, m_tiny, out.path());
    QCOMPARE(code, 2);
    QVERIFY2(err.contains(link + QStringLiteral(" is a symbolic link")), qPrintable(err));
    QVERIFY2(!err.contains(QStringLiteral("done")), qPrintable(err));
    QCOMPARE(QFileInfo(link).symLinkTarget(), victim);
    QFile back(victim);
    QVERIFY(back.open(QIODevice::ReadOnly));
    QCOMPARE(back.readAll(), QByteArray("keep me"));
    QCOMPARE(QDir(out.path()).entryList(QDir::Files | QDir::Hidden | QDir::System), QStringList{QStringLiteral("summary.csv")});
}

// A run on a nearly full disk keeps the earlier run's files whole, leaves no partial file,
// and says why; a file an earlier run left and this one did not write is named.
void TestCli::fullDiskKeepsTheEarlierRun()
{
    QTemporaryDir dir;
    const QByteArray mountPoint = QFile::encodeName(dir.path());
    if (::mount("tmpfs", mountPoint.constData(), "tmpfs", 0, "size=4m") != 0)
        QSKIP(qPrintable(QStringLiteral("mounting a tmpfs needs root (%1)").arg(QString::fromLocal8Bit(std::strerror(errno)))));
    const auto unmount = qScopeGuard([&] { ::umount2(mountPoint.constData(), MNT_DETACH); });
    const QString out = QDir(dir.path()).filePath(QStringLiteral("out"));
    QVERIFY(QDir().mkpath(out));
    QFile stale(QDir(out).filePath(QStringLiteral("samples.csv")));
    QVERIFY(stale.open(QIODevice::WriteOnly));
    stale.close();

    const auto [firstCode, firstErr] = runInto(m_exe, m_tiny, out);
    QVERIFY2(firstCode == 0, qPrintable(firstErr));
    QVERIFY2(firstErr.contains(QStringLiteral("warning: %1 still holds samples.csv from an earlier run").arg(out)), qPrintable(firstErr));
    const QMap<QString, QByteArray> before = snapshot(out);
    QVERIFY(before.size() >= 18);

    QFile filler(QDir(dir.path()).filePath(QStringLiteral("filler")));
    QVERIFY(filler.open(QIODevice::WriteOnly));
    const QByteArray block(4096, 'x');
    while (QStorageInfo(dir.path()).bytesAvailable() > 300 * 1024 && filler.write(block) == block.size())
        filler.flush();
    filler.close();

    const auto [secondCode, secondErr] = runInto(m_exe, m_tiny, out);
    QCOMPARE(secondCode, 1);
    QVERIFY2(secondErr.contains(QStringLiteral("No space left on device")), qPrintable(secondErr));
    QVERIFY2(!secondErr.contains(QStringLiteral("wrote ")), qPrintable(secondErr));
    QCOMPARE(snapshot(out), before);
}

void TestCli::noDisplaySaysSo_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("display");
    QTest::addColumn<QString>("message");
    const QString scenario = QStringLiteral(EDGESSE_SOURCE_DIR "/scenarios/http1-vs-http2.yaml");
    QTest::newRow("app") << QStringList{} << QString() << QStringLiteral("no display (DISPLAY is not set)");
    QTest::newRow("app with a file") << QStringList{scenario} << QString() << QStringLiteral("no display (DISPLAY is not set)");
    QTest::newRow("nobody at the display") << QStringList{scenario} << QStringLiteral(":97")
                                           << QStringLiteral("cannot connect to display :97");
}

// One line, the headless commands named, exit 2: not Qt's abort in its platform plugin.
void TestCli::noDisplaySaysSo()
{
    QFETCH(QStringList, args);
    QFETCH(QString, display);
    QFETCH(QString, message);
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("DISPLAY"));
    if (!display.isEmpty())
        env.insert(QStringLiteral("DISPLAY"), display);
    p.setProcessEnvironment(env);
    p.start(m_exe, args);
    QVERIFY(p.waitForFinished(30'000));
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 2);
    QVERIFY2(err.startsWith(QStringLiteral("edgesse: ") + message), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("validate, run, serve, compare, merge")), qPrintable(err));
    QCOMPARE(err.count(u'\n'), 1);
}

void TestCli::unknownCommandWord()
{
    QProcess p;
    p.start(m_exe, {QStringLiteral("frobnicate"), QStringLiteral("a.json")});
    QVERIFY(p.waitForFinished(30'000));
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QCOMPARE(p.exitCode(), 2);
    const QString err = QString::fromUtf8(p.readAllStandardError());
    QVERIFY2(err.startsWith(QStringLiteral("edgesse: unknown command 'frobnicate'\n")), qPrintable(err));
    QVERIFY2(err.contains(QStringLiteral("Usage:")) && err.contains(QStringLiteral("edgesse validate FILE...")), qPrintable(err));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
