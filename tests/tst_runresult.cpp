#include "core/metrics/csvwriter.h"
#include "core/metrics/runresult.h"
#include "metricsfixture.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using edgesse::metrics::RunResult;
using edgesse::metrics::VariantResult;
namespace csv = edgesse::metrics::csv;

namespace {

// A strict RFC 4180 reader: fails (returns false) on anything a spreadsheet would misread.
bool parseCsv(const QByteArray &bytes, QList<QStringList> &rows, QString *error)
{
    rows.clear();
    QStringList row;
    QByteArray field;
    bool quoted = false;
    bool fieldWasQuoted = false;
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        const char c = bytes[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < bytes.size() && bytes[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
            continue;
        }
        if (c == '"') {
            if (!field.isEmpty()) {
                *error = QStringLiteral("quote inside an unquoted field at byte %1").arg(i);
                return false;
            }
            quoted = fieldWasQuoted = true;
        } else if (c == ',') {
            row.append(QString::fromUtf8(field));
            field.clear();
            fieldWasQuoted = false;
        } else if (c == '\r') {
            if (i + 1 >= bytes.size() || bytes[i + 1] != '\n') {
                *error = QStringLiteral("CR without LF at byte %1").arg(i);
                return false;
            }
        } else if (c == '\n') {
            row.append(QString::fromUtf8(field));
            rows.append(row);
            row.clear();
            field.clear();
            fieldWasQuoted = false;
        } else {
            if (fieldWasQuoted) {
                *error = QStringLiteral("text after a closing quote at byte %1").arg(i);
                return false;
            }
            field += c;
        }
    }
    if (quoted) {
        *error = QStringLiteral("unterminated quoted field");
        return false;
    }
    if (!field.isEmpty() || !row.isEmpty()) {
        *error = QStringLiteral("last line has no line end");
        return false;
    }
    return true;
}

QList<QStringList> parsed(const QByteArray &bytes)
{
    QList<QStringList> rows;
    QString error;
    if (!parseCsv(bytes, rows, &error))
        qWarning("CSV: %s", qPrintable(error));
    return rows;
}

RunResult trickyResult()
{
    RunResult result = edgesse::testing::makeRunResult(12, 5);
    result.variants[0].name = QStringLiteral("central, \"HTTP/1.1\"");
    result.variants[1].name = QStringLiteral("edge\nmultiline — ünïcode");
    result.variants[1].groups[0].name = QStringLiteral("berlin,eu");
    return result;
}

} // namespace

class TestRunResult final : public QObject
{
    Q_OBJECT

private slots:
    void jsonHasTheStableNames();
    void jsonRoundTrip();
    void jsonErrorsNameThePath_data();
    void jsonErrorsNameThePath();
    void accountingBalances();
    void csvFieldQuoting_data();
    void csvFieldQuoting();
    void csvNumbers();
    void csvFilesParse();
    void csvFilesParseWithPython();
    void writeResultFiles();
    void writeResultFilesReportsABadDirectory();
    void overheadWarning();
    void nothingMeasuredIsNotZero();
};

void TestRunResult::jsonHasTheStableNames()
{
    const QJsonObject json = edgesse::testing::makeRunResult(8, 3).toJson();
    QCOMPARE(json.value(QStringLiteral("tool")).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("edgesse"));
    QCOMPARE(json.value(QStringLiteral("tool")).toObject().value(QStringLiteral("version")).toString(), QStringLiteral("0.1.0"));
    const QJsonObject scenario = json.value(QStringLiteral("scenario")).toObject();
    for (const char *key : {"file", "name", "seed"})
        QVERIFY2(scenario.contains(QLatin1String(key)), key);
    const QJsonObject v = json.value(QStringLiteral("variants")).toArray().at(0).toObject();
    const QList<std::pair<const char *, QStringList>> objects{
        {"latency_ms", {QStringLiteral("count"), QStringLiteral("mean"), QStringLiteral("p50"), QStringLiteral("p90"),
                        QStringLiteral("p99"), QStringLiteral("p999"), QStringLiteral("max")}},
        {"overhead_ms", {QStringLiteral("count"), QStringLiteral("p50"), QStringLiteral("p99"), QStringLiteral("max")}},
        {"time_to_first_event_ms", {QStringLiteral("count"), QStringLiteral("p50"), QStringLiteral("p99"), QStringLiteral("max")}},
        {"events", {QStringLiteral("published"), QStringLiteral("expected"), QStringLiteral("delivered"),
                    QStringLiteral("lost"), QStringLiteral("duplicated")}},
        {"streams", {QStringLiteral("total"), QStringLiteral("starved"), QStringLiteral("reconnects"),
                     QStringLiteral("reconnects_by_cause")}},
        {"connections", {QStringLiteral("origin_max"), QStringLiteral("by_node_max")}},
        {"bytes", {QStringLiteral("total"), QStringLiteral("heartbeat")}},
    };
    for (const auto &[name, keys] : objects) {
        QVERIFY2(v.value(QLatin1String(name)).isObject(), name);
        const QJsonObject o = v.value(QLatin1String(name)).toObject();
        for (const QString &key : keys)
            QVERIFY2(o.contains(key), qPrintable(QLatin1String(name) + QLatin1Char('.') + key));
    }
    for (const char *key : {"name", "resolved", "requests", "cost", "groups", "links", "latency_cdf", "time_series"})
        QVERIFY2(v.contains(QLatin1String(key)), key);
    QVERIFY(v.value(QStringLiteral("latency_ms")).toObject().value(QStringLiteral("p50")).isDouble());
    QCOMPARE(v.value(QStringLiteral("streams")).toObject().value(QStringLiteral("reconnects_by_cause")).toObject()
                 .value(QStringLiteral("idle_timeout")).toInt(),
             int(edgesse::testing::makeRunResult(8, 3).variants[0].streams.reconnects));
    const QJsonObject group = v.value(QStringLiteral("groups")).toArray().at(0).toObject();
    QCOMPARE(group.value(QStringLiteral("name")).toString(), QStringLiteral("berlin"));
    QVERIFY(group.value(QStringLiteral("latency_ms")).toObject().contains(QStringLiteral("p99")));
    QVERIFY(json.value(QStringLiteral("variants")).toArray().at(1).toObject().value(QStringLiteral("cost")).isObject());

    RunResult noCost = edgesse::testing::makeRunResult(4, 1);
    noCost.variants[0].cost.reset();
    QVERIFY(noCost.toJson().value(QStringLiteral("variants")).toArray().at(0).toObject().value(QStringLiteral("cost")).isNull());
}

void TestRunResult::jsonRoundTrip()
{
    const RunResult original = trickyResult();
    const QByteArray bytes = QJsonDocument(original.toJson()).toJson();
    QString error;
    const std::optional<RunResult> back = RunResult::fromJsonBytes(bytes, &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->toJson(), original.toJson());
    QCOMPARE(back->variants.size(), original.variants.size());
    const VariantResult &a = original.variants[0];
    const VariantResult &b = back->variants[0];
    QCOMPARE(b.name, a.name);
    QCOMPARE(b.events.lost, a.events.lost);
    QCOMPARE(b.events.lostByCause, a.events.lostByCause);
    QCOMPARE(b.streams.reconnectsByCause, a.streams.reconnectsByCause);
    QCOMPARE(b.latencyCdf.size(), a.latencyCdf.size());
    QCOMPARE(b.timeSeries.channelCount(), a.timeSeries.channelCount());
    QCOMPARE(b.timeSeries.points(edgesse::metrics::series::kLatencyP99).size(),
             a.timeSeries.points(edgesse::metrics::series::kLatencyP99).size());
    QCOMPARE(b.resolved, a.resolved);
    QVERIFY(b.cost.has_value());
    QCOMPARE(b.cost->perHour, a.cost->perHour);
}

void TestRunResult::jsonErrorsNameThePath_data()
{
    QTest::addColumn<QByteArray>("document");
    QTest::addColumn<QString>("expected");
    QTest::newRow("not JSON") << QByteArray("{\"tool\": ") << QStringLiteral("not valid JSON");
    QTest::newRow("array") << QByteArray("[]") << QStringLiteral("top level should be an object");
    QTest::newRow("no variants") << QByteArray(R"({"tool":{"name":"edgesse","version":"0.1.0"},"scenario":{}})")
                                 << QStringLiteral("results.variants should be an array");
    QTest::newRow("string latency")
        << QByteArray(R"({"tool":{"name":"edgesse","version":"0.1.0"},"scenario":{},"variants":[{"name":"a",
            "latency_ms":{"p50":"fast","p99":1},"events":{"expected":0,"delivered":0,"lost":0,"duplicated":0},
            "streams":{"total":0,"reconnects":0}}]})")
        << QStringLiteral("results.variants[0].latency_ms.p50 should be a number");
    QTest::newRow("negative count")
        << QByteArray(R"({"tool":{"name":"edgesse","version":"0.1.0"},"scenario":{},"variants":[{"name":"a",
            "latency_ms":{"p50":1,"p99":1},"events":{"expected":-1,"delivered":0,"lost":0,"duplicated":0},
            "streams":{"total":0,"reconnects":0}}]})")
        << QStringLiteral("results.variants[0].events.expected should be a count");
}

void TestRunResult::jsonErrorsNameThePath()
{
    QFETCH(QByteArray, document);
    QFETCH(QString, expected);
    QString error;
    QVERIFY(!RunResult::fromJsonBytes(document, &error));
    QVERIFY2(error.contains(expected), qPrintable(error));
}

void TestRunResult::accountingBalances()
{
    const RunResult result = edgesse::testing::makeRunResult(20, 10);
    for (const VariantResult &v : result.variants) {
        QCOMPARE(v.events.delivered + v.events.lost, v.events.expected);
        std::uint64_t byCause = 0;
        for (const auto &[cause, n] : v.events.lostByCause)
            byCause += n;
        QCOMPARE(byCause, v.events.lost);
    }
    // The fixture's central variant reaps a quarter of the streams every 10 s.
    QVERIFY(result.variants[0].events.lost > 0);
    QCOMPARE(result.variants[0].events.lostByCause.at(QStringLiteral("idle_timeout")), result.variants[0].events.lost);
    QCOMPARE(result.variants[1].events.lost, std::uint64_t{0});
}

void TestRunResult::csvFieldQuoting_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QByteArray>("expected");
    QTest::newRow("plain") << QStringLiteral("edge") << QByteArray("edge");
    QTest::newRow("comma") << QStringLiteral("a,b") << QByteArray("\"a,b\"");
    QTest::newRow("quote") << QStringLiteral("say \"hi\"") << QByteArray("\"say \"\"hi\"\"\"");
    QTest::newRow("newline") << QStringLiteral("a\nb") << QByteArray("\"a\nb\"");
    QTest::newRow("carriage return") << QStringLiteral("a\rb") << QByteArray("\"a\rb\"");
    QTest::newRow("unicode") << QStringLiteral("ünï — x") << QStringLiteral("ünï — x").toUtf8();
    QTest::newRow("empty") << QString() << QByteArray();
}

void TestRunResult::csvFieldQuoting()
{
    QFETCH(QString, text);
    QFETCH(QByteArray, expected);
    QCOMPARE(csv::field(text), expected);
    QList<QStringList> rows;
    QString error;
    QVERIFY2(parseCsv(csv::row({csv::field(text), "1"}), rows, &error), qPrintable(error));
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0], (QStringList{text, QStringLiteral("1")}));
}

void TestRunResult::csvNumbers()
{
    QCOMPARE(csv::number(12.5), QByteArray("12.5"));
    QCOMPARE(csv::number(3.0), QByteArray("3"));
    QCOMPARE(csv::number(0.0004), QByteArray("0"));
    QCOMPARE(csv::number(1234567.891), QByteArray("1234567.891"));
    QCOMPARE(csv::number(std::nan("")), QByteArray());
    QCOMPARE(csv::number(std::uint64_t{18'000'000'000}), QByteArray("18000000000"));
    QCOMPARE(csv::number(-0.0001), QByteArray("0"));
}

void TestRunResult::csvFilesParse()
{
    RunResult result = trickyResult();
    result.variants[0].samples.push_back({QStringLiteral("berlin"), 0, 0, 7, 1000, 49'000});
    const QList<std::pair<const char *, QByteArray>> files{
        {"summary", csv::summary(result)}, {"groups", csv::groups(result)},  {"links", csv::links(result)},
        {"streams", csv::streams(result)}, {"timeseries", csv::timeSeries(result)}, {"samples", csv::samples(result)}};
    for (const auto &[name, bytes] : files) {
        QList<QStringList> rows;
        QString error;
        QVERIFY2(parseCsv(bytes, rows, &error), qPrintable(QLatin1String(name) + QStringLiteral(": ") + error));
        QVERIFY2(rows.size() >= 2, name);
        for (const QStringList &row : rows)
            QVERIFY2(row.size() == rows[0].size(), name);
    }
    const QList<QStringList> summary = parsed(csv::summary(result));
    QCOMPARE(summary.size(), 3);
    QCOMPARE(summary[0][0], QStringLiteral("variant"));
    QCOMPARE(summary[1][0], result.variants[0].name);
    QCOMPARE(summary[2][0], result.variants[1].name);
    const qsizetype p99 = summary[0].indexOf(QStringLiteral("latency_p99_ms"));
    QVERIFY(p99 > 0);
    QVERIFY(std::abs(summary[2][p99].toDouble() - result.variants[1].latency.p99) < 0.001);
    const qsizetype lost = summary[0].indexOf(QStringLiteral("events_lost"));
    QCOMPARE(summary[1][lost].toULongLong(), result.variants[0].events.lost);

    const QList<QStringList> series = parsed(csv::timeSeries(result));
    QCOMPARE(series[0].mid(0, 2), (QStringList{QStringLiteral("variant"), QStringLiteral("t_s")}));
    QVERIFY(series[0].contains(QStringLiteral("connections:pop-fra")));
    QCOMPARE(series.size(), 1 + 50 + 50); // 5 s at 100 ms, two variants
    QCOMPARE(series[1][1], QStringLiteral("0.1"));
    // The central variant has no pop-fra column of its own: empty fields, not zeros.
    QCOMPARE(series[1][series[0].indexOf(QStringLiteral("connections:pop-fra"))], QString());

    const QList<QStringList> samples = parsed(csv::samples(result));
    QCOMPARE(samples[1].last(), QStringLiteral("48000"));
    const QList<QStringList> groups = parsed(csv::groups(result));
    QCOMPARE(groups[2][1], QStringLiteral("berlin,eu"));
}

void TestRunResult::csvFilesParseWithPython()
{
    const QString python = QStandardPaths::findExecutable(QStringLiteral("python3"));
    if (python.isEmpty())
        QSKIP("python3 is not installed");
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    QVERIFY2(!edgesse::metrics::writeResultFiles(trickyResult(), dir.path(), &error).isEmpty(), qPrintable(error));
    // Python's csv module reads every file back with one width per file and finds the
    // tricky names intact.
    const QString script = QStringLiteral(R"(
import csv, glob, sys
names = set()
for path in sorted(glob.glob(sys.argv[1] + '/*.csv')):
    with open(path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    widths = {len(r) for r in rows}
    assert len(widths) == 1, (path, widths)
    if path.endswith('summary.csv'):
        names = {r[0] for r in rows[1:]}
        float(rows[1][rows[0].index('latency_p99_ms')])
print(sorted(names))
)");
    QProcess process;
    process.start(python, {QStringLiteral("-c"), script, dir.path()});
    QVERIFY(process.waitForFinished(30'000));
    QVERIFY2(process.exitCode() == 0, process.readAllStandardError().constData());
    const QString out = QString::fromUtf8(process.readAllStandardOutput());
    QVERIFY2(out.contains(QStringLiteral("central, \"HTTP/1.1\"")), qPrintable(out));
    QVERIFY2(out.contains(QStringLiteral("edge\\nmultiline")), qPrintable(out));
}

void TestRunResult::writeResultFiles()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString out = dir.filePath(QStringLiteral("nested/out"));
    QString error;
    RunResult result = edgesse::testing::makeRunResult(6, 2);
    QStringList written = edgesse::metrics::writeResultFiles(result, out, &error);
    QVERIFY2(!written.isEmpty(), qPrintable(error));
    QStringList names;
    for (const QString &path : written)
        names.append(QFileInfo(path).fileName());
    QCOMPARE(names, (QStringList{QStringLiteral("results.json"), QStringLiteral("summary.csv"), QStringLiteral("groups.csv"),
                                 QStringLiteral("links.csv"), QStringLiteral("streams.csv"), QStringLiteral("timeseries.csv")}));
    QFile json(QDir(out).filePath(QStringLiteral("results.json")));
    QVERIFY(json.open(QIODevice::ReadOnly));
    const std::optional<RunResult> back = RunResult::fromJsonBytes(json.readAll(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->variants.size(), std::size_t{2});

    result.variants[1].samples.push_back({QStringLiteral("berlin"), 1, 0, 3, 10, 20});
    written = edgesse::metrics::writeResultFiles(result, out, &error);
    QVERIFY(QFileInfo(written.last()).fileName() == QStringLiteral("samples.csv"));
}

void TestRunResult::writeResultFilesReportsABadDirectory()
{
    QTemporaryDir dir;
    QFile blocker(dir.filePath(QStringLiteral("file")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    QString error;
    const QStringList written =
        edgesse::metrics::writeResultFiles(edgesse::testing::makeRunResult(2, 1), blocker.fileName() + QStringLiteral("/sub"), &error);
    QVERIFY(written.isEmpty());
    QVERIFY2(error.contains(QStringLiteral("cannot create the directory")), qPrintable(error));
}

// Trust is per group: error p99 within the tolerance. Overhead (jitter included) is not
// judged; a group without measured error is neither trusted nor not.
void TestRunResult::overheadWarning()
{
    VariantResult v;
    v.overhead.p99 = 9.2; // jittery paths: overhead far above 1 ms, and still trusted
    edgesse::metrics::GroupResult quiet;
    quiet.name = QStringLiteral("quiet");
    quiet.error.percentiles.count = 100;
    quiet.error.percentiles.p99 = 0.4;
    edgesse::metrics::GroupResult loaded = quiet;
    loaded.name = QStringLiteral("loaded");
    loaded.error.percentiles.p99 = 2.5;
    edgesse::metrics::GroupResult polled;
    polled.name = QStringLiteral("polled");
    v.groups = {quiet, polled};
    v.checkTrust();
    QVERIFY(v.warnings.isEmpty());
    QCOMPARE(v.groups[0].error.trusted, std::optional<bool>(true));
    QVERIFY(!v.groups[1].error.trusted.has_value());
    QCOMPARE(v.error.trusted, std::optional<bool>(true));

    v.groups.push_back(loaded);
    v.checkTrust();
    v.checkTrust();
    QCOMPARE(v.warnings.size(), 1);
    QVERIFY(v.warnings[0].contains(QStringLiteral("loaded")) && v.warnings[0].contains(QStringLiteral("--time-scale")));
    QCOMPARE(v.groups[2].error.trusted, std::optional<bool>(false));
    QVERIFY(v.untrusted());

    v.toleranceMs = 3.0; // what this user accepts
    v.checkTrust();
    QVERIFY(v.warnings.isEmpty());
    QVERIFY(!v.untrusted());

    RunResult run;
    run.variants.push_back(v);
    QString error;
    const auto back = RunResult::fromJson(run.toJson(), &error);
    QVERIFY2(back.has_value(), qPrintable(error));
    QCOMPARE(back->variants.front().toleranceMs, 3.0);
    QCOMPARE(back->variants.front().groups[2].error.trusted, std::optional<bool>(true));
    QVERIFY(!back->variants.front().groups[1].error.trusted.has_value());
    QCOMPARE(back->variants.front().groups[0].error.percentiles.p99, 0.4);
}

QTEST_GUILESS_MAIN(TestRunResult)
// A polling variant has no overhead, a run that delivered nothing has no latency: the
// summaries say so (count 0) and the CSV leaves those cells empty instead of writing zeros.
void TestRunResult::nothingMeasuredIsNotZero()
{
    RunResult result = edgesse::testing::makeRunResult(8, 3);
    VariantResult &v = result.variants[0];
    v.overhead = edgesse::metrics::PercentileSummary::from(edgesse::metrics::LatencyHistogram{});
    v.latency = edgesse::metrics::LatencySummary::from(edgesse::metrics::LatencyHistogram{});
    QCOMPARE(v.overhead.count, std::uint64_t{0});
    QVERIFY(result.variants[1].overhead.count > 0);

    const QJsonObject json = result.toJson();
    const QJsonArray variants = json.value(QStringLiteral("variants")).toArray();
    QCOMPARE(variants.at(0).toObject().value(QStringLiteral("overhead_ms")).toObject().value(QStringLiteral("count")).toInt(), 0);
    QString error;
    const std::optional<RunResult> back = RunResult::fromJsonBytes(QJsonDocument(json).toJson(), &error);
    QVERIFY2(back, qPrintable(error));
    QCOMPARE(back->variants[0].overhead.count, std::uint64_t{0});
    QCOMPARE(back->variants[1].overhead.count, result.variants[1].overhead.count);

    // A file written before summaries carried a count: one with values measured something.
    QJsonObject old = json;
    QJsonArray oldVariants = variants;
    QJsonObject second = oldVariants.at(1).toObject();
    QJsonObject overhead = second.value(QStringLiteral("overhead_ms")).toObject();
    overhead.remove(QStringLiteral("count"));
    second.insert(QStringLiteral("overhead_ms"), overhead);
    oldVariants.replace(1, second);
    old.insert(QStringLiteral("variants"), oldVariants);
    const std::optional<RunResult> fromOld = RunResult::fromJsonBytes(QJsonDocument(old).toJson(), &error);
    QVERIFY2(fromOld, qPrintable(error));
    QVERIFY(fromOld->variants[1].overhead.count > 0);

    const QList<QStringList> summary = parsed(csv::summary(result));
    for (const char *column : {"overhead_p50_ms", "overhead_p99_ms", "overhead_max_ms", "latency_p50_ms", "latency_mean_ms"}) {
        const qsizetype c = summary[0].indexOf(QLatin1String(column));
        QVERIFY2(c > 0, column);
        QVERIFY2(summary[1][c].isEmpty(), column);
        QVERIFY2(!summary[2][c].isEmpty(), column);
    }
    QCOMPARE(summary[1][summary[0].indexOf(QStringLiteral("latency_count"))], QStringLiteral("0"));
}

#include "tst_runresult.moc"
