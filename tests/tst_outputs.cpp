// Output files: written whole or not at all (a full disk leaves the earlier set), never
// through a symbolic link, and CSV text cells that a spreadsheet would run as formulas
// neutralised.

#include "core/io/outputset.h"
#include "core/metrics/csvwriter.h"
#include "tests/metricsfixture.h"

#include <QDir>
#include <QFile>
#include <QStorageInfo>
#include <QTemporaryDir>
#include <QTest>

#include <sys/mount.h>

#include <cerrno>
#include <cstring>

using namespace edgesse;

namespace {

QByteArray readAll(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// The directory's files and their bytes, hidden ones (staging leftovers) included.
QMap<QString, QByteArray> snapshot(const QString &dir)
{
    QMap<QString, QByteArray> files;
    for (const QString &name : QDir(dir).entryList(QDir::Files | QDir::Hidden | QDir::System))
        files.insert(name, readAll(QDir(dir).filePath(name)));
    return files;
}

// A tmpfs of `bytes` mounted on `dir` for the test's life; needs root.
class Tmpfs
{
public:
    Tmpfs(const QString &dir, qint64 bytes) : m_dir(QFile::encodeName(dir))
    {
        const QByteArray options = "size=" + QByteArray::number(bytes) + ",mode=0755";
        m_mounted = ::mount("tmpfs", m_dir.constData(), "tmpfs", 0, options.constData()) == 0;
        m_errno = errno;
    }
    ~Tmpfs()
    {
        if (m_mounted)
            ::umount2(m_dir.constData(), MNT_DETACH);
    }
    bool mounted() const { return m_mounted; }
    QString why() const { return QString::fromLocal8Bit(std::strerror(m_errno)); }

private:
    QByteArray m_dir;
    bool m_mounted = false;
    int m_errno = 0;
};

// Fills the file system holding `dir` until at most `leave` bytes are free.
void fill(const QString &dir, qint64 leave)
{
    QFile filler(QDir(dir).filePath(QStringLiteral("filler")));
    QVERIFY(filler.open(QIODevice::WriteOnly));
    const QByteArray block(4096, 'x');
    const qint64 total = QStorageInfo(dir).bytesAvailable() - leave;
    for (qint64 written = 0; written + block.size() <= total; written += block.size())
        if (filler.write(block) != block.size())
            break;
    filler.close();
}

} // namespace

class TestOutputs final : public QObject
{
    Q_OBJECT

private slots:
    void formulaCells_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QByteArray>("expected");
        QTest::newRow("equals") << QStringLiteral("=1+1") << QByteArray("'=1+1");
        QTest::newRow("hyperlink") << QStringLiteral("=HYPERLINK(\"http://x\",\"y\")")
                                   << QByteArray("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"");
        QTest::newRow("plus") << QStringLiteral("+cmd") << QByteArray("'+cmd");
        QTest::newRow("minus") << QStringLiteral("-2+3") << QByteArray("'-2+3");
        QTest::newRow("at") << QStringLiteral("@SUM(A1)") << QByteArray("'@SUM(A1)");
        QTest::newRow("tab") << QStringLiteral("\t=1") << QByteArray("'\t=1");
        QTest::newRow("carriage return") << QStringLiteral("\r=1") << QByteArray("\"'\r=1\"");
        QTest::newRow("comma") << QStringLiteral("=a,b") << QByteArray("\"'=a,b\"");
        QTest::newRow("negative number") << QStringLiteral("-5") << QByteArray("-5");
        QTest::newRow("signed decimal") << QStringLiteral("+0.25") << QByteArray("+0.25");
        QTest::newRow("inner equals") << QStringLiteral("heartbeat=5s") << QByteArray("heartbeat=5s");
        QTest::newRow("plain") << QStringLiteral("edge") << QByteArray("edge");
    }

    void formulaCells()
    {
        QFETCH(QString, text);
        QFETCH(QByteArray, expected);
        QCOMPARE(metrics::csv::field(text), expected);
    }

    // Names from a scenario reach every CSV; none of them starts a formula there.
    void formulaNamesInEveryCsv()
    {
        metrics::RunResult result = testing::makeRunResult(4, 3);
        result.variants[0].name = QStringLiteral("=HYPERLINK(\"http://evil\")");
        result.variants[1].name = QStringLiteral("@cmd");
        const QByteArray summary = metrics::csv::summary(result);
        QVERIFY2(summary.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), summary.constData());
        QVERIFY2(summary.contains("\r\n'@cmd,"), summary.constData());
        for (const auto &[name, bytes] : metrics::resultFiles(result)) {
            if (!name.endsWith(QLatin1String(".csv")))
                continue;
            for (const QByteArray &line : bytes.split('\n'))
                for (const QByteArray &cell : line.split(','))
                    QVERIFY2(!cell.startsWith('=') && !cell.startsWith('@') && !cell.startsWith("\"="),
                             qPrintable(name + QStringLiteral(": ") + QString::fromUtf8(line)));
        }
    }

    void setWritesEveryFile()
    {
        QTemporaryDir dir;
        io::OutputSet set(dir.path());
        QVERIFY(set.add(QStringLiteral("a.txt"), "alpha"));
        QVERIFY(set.add(QStringLiteral("b.txt"), "beta"));
        QVERIFY2(set.commit(), qPrintable(set.error()));
        QCOMPARE(snapshot(dir.path()), (QMap<QString, QByteArray>{{QStringLiteral("a.txt"), "alpha"}, {QStringLiteral("b.txt"), "beta"}}));
    }

    // A link where an output goes: refused before anything is replaced; the link and the
    // file it points to stay as they were.
    void symbolicLinksAreNotFollowed()
    {
        QTemporaryDir dir;
        QTemporaryDir elsewhere;
        const QString victim = QDir(elsewhere.path()).filePath(QStringLiteral("precious"));
        QFile f(victim);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("keep me");
        f.close();
        const QString link = QDir(dir.path()).filePath(QStringLiteral("results.json"));
        QVERIFY(QFile::link(victim, link));
        const QString check = io::checkOutputDirectory(dir.path(), {QStringLiteral("results.json")});
        QVERIFY2(check.contains(QStringLiteral("is a symbolic link")), qPrintable(check));

        io::OutputSet set(dir.path());
        QVERIFY(set.add(QStringLiteral("summary.csv"), "x"));
        QVERIFY(set.add(QStringLiteral("results.json"), "{}"));
        QVERIFY(!set.commit());
        QVERIFY2(set.error().contains(QStringLiteral("is a symbolic link")), qPrintable(set.error()));
        QCOMPARE(QFileInfo(link).symLinkTarget(), victim);
        QCOMPARE(readAll(victim), QByteArray("keep me"));
        QVERIFY(!QFileInfo::exists(QDir(dir.path()).filePath(QStringLiteral("summary.csv"))));
    }

    void unwritableDirectory()
    {
        QTemporaryDir dir;
        QFile file(QDir(dir.path()).filePath(QStringLiteral("plain")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        const QString error = io::checkOutputDirectory(file.fileName() + QStringLiteral("/out"), {});
        QVERIFY2(error.contains(QStringLiteral("Not a directory")), qPrintable(error));
    }

    void leftovers()
    {
        QTemporaryDir dir;
        for (const char *name : {"results.json", "samples.csv", "mine.txt"}) {
            QFile f(QDir(dir.path()).filePath(QString::fromLatin1(name)));
            QVERIFY(f.open(QIODevice::WriteOnly));
        }
        const QStringList names{QStringLiteral("results.json"), QStringLiteral("samples.csv"), QStringLiteral("summary.csv")};
        QCOMPARE(io::leftoverFiles(dir.path(), names, {QDir(dir.path()).filePath(QStringLiteral("results.json"))}),
                 QStringList{QStringLiteral("samples.csv")});
    }

    // A full disk: the earlier set stays whole, no partial or temporary file is left, and the
    // message is the operating system's.
    void fullDiskLeavesTheEarlierSet()
    {
        QTemporaryDir dir;
        Tmpfs tmpfs(dir.path(), 1024 * 1024);
        if (!tmpfs.mounted())
            QSKIP(qPrintable(QStringLiteral("mounting a tmpfs needs root (%1)").arg(tmpfs.why())));
        const QString out = QDir(dir.path()).filePath(QStringLiteral("out"));
        QVERIFY(QDir().mkpath(out));
        const metrics::RunResult first = testing::makeRunResult(4, 3);
        QString error;
        QVERIFY2(!metrics::writeResultFiles(first, out, &error).isEmpty(), qPrintable(error));
        const QMap<QString, QByteArray> before = snapshot(out);
        QVERIFY(before.contains(QStringLiteral("results.json")));

        fill(dir.path(), 16 * 1024);
        const metrics::RunResult second = testing::makeRunResult(40, 30);
        QVERIFY(metrics::writeResultFiles(second, out, &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("No space left on device")), qPrintable(error));
        QCOMPARE(snapshot(out), before);
    }

    void fullDiskLeavesNothing()
    {
        QTemporaryDir dir;
        Tmpfs tmpfs(dir.path(), 256 * 1024);
        if (!tmpfs.mounted())
            QSKIP(qPrintable(QStringLiteral("mounting a tmpfs needs root (%1)").arg(tmpfs.why())));
        fill(dir.path(), 8 * 1024);
        const QString out = QDir(dir.path()).filePath(QStringLiteral("out"));
        QString error;
        QVERIFY(metrics::writeResultFiles(testing::makeRunResult(40, 30), out, &error).isEmpty());
        QVERIFY2(error.contains(QStringLiteral("No space left on device")), qPrintable(error));
        QVERIFY(snapshot(out).isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestOutputs)
#include "tst_outputs.moc"
