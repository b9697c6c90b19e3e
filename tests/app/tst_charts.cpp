#include "app/charts/charts.h"
#include "../metricsfixture.h"

#include <QBarSet>
#include <QBuffer>
#include <QChart>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGraphicsLayout>
#include <QGraphicsScene>
#include <QImage>
#include <QLineSeries>
#include <QAbstractBarSeries>
#include <QSet>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QTest>
#include <QXmlStreamReader>

#include <algorithm>
#include <cmath>

using edgesse::charts::ChartKind;
using edgesse::charts::ExportOptions;
using edgesse::charts::Theme;
using edgesse::metrics::RunResult;

namespace {

// Distinct colours in a sample of the image: a blank or single-colour render has one or two.
int distinctColours(const QImage &image)
{
    QSet<QRgb> colours;
    for (int y = 0; y < image.height(); y += 3) {
        for (int x = 0; x < image.width(); x += 3)
            colours.insert(image.pixel(x, y));
    }
    return int(colours.size());
}

QString dirForCharts(QTemporaryDir &temporary)
{
    // EDGESSE_CHARTS_OUT keeps the rendered files for a look.
    const QString keep = qEnvironmentVariable("EDGESSE_CHARTS_OUT");
    return keep.isEmpty() ? temporary.path() : keep;
}

QLineSeries *lineNamed(QChart *chart, const QString &name)
{
    for (QAbstractSeries *s : chart->series()) {
        if (s->name() == name)
            return qobject_cast<QLineSeries *>(s);
    }
    return nullptr;
}

} // namespace

namespace {

// The charts of routed nodes draw from a run that had some: pop-failover's, as `edgesse run`
// wrote it.
bool usesRoutedNodes(ChartKind kind)
{
    return kind == ChartKind::InstancesOverTime || kind == ChartKind::InstanceConnections || kind == ChartKind::ConnectionsMoved
           || kind == ChartKind::AttemptsAnd503s;
}

RunResult routedRunResult()
{
    QFile file(QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/results/routing/pop-failover.json"));
    if (!file.open(QIODevice::ReadOnly))
        qFatal("cannot read %s", qPrintable(file.fileName()));
    const auto result = RunResult::fromJsonBytes(file.readAll());
    if (!result)
        qFatal("%s does not parse", qPrintable(file.fileName()));
    return *result;
}

} // namespace

class TestCharts final : public QObject
{
    Q_OBJECT

private slots:
    void rendersPngAndSvg_data();
    void rendersPngAndSvg();
    void exportsTheWholeSet();
    void exportReportsAnUnwritableDirectory();
    void liveUpdateReplacesPoints();
    void longLiveLinesKeepPeaksPerPixel();
    void barsFollowTheResult();
    void emptyResultStillRenders();
};

void TestCharts::rendersPngAndSvg_data()
{
    QTest::addColumn<ChartKind>("kind");
    QTest::addColumn<Theme>("theme");
    for (ChartKind kind : edgesse::charts::allChartKinds()) {
        const QByteArray stem = edgesse::charts::chartFileStem(kind).toUtf8();
        QTest::newRow(QByteArray(stem + " light").constData()) << kind << Theme::Light;
        QTest::newRow(QByteArray(stem + " dark").constData()) << kind << Theme::Dark;
    }
}

void TestCharts::rendersPngAndSvg()
{
    QFETCH(ChartKind, kind);
    QFETCH(Theme, theme);
    const RunResult result = usesRoutedNodes(kind) ? routedRunResult() : edgesse::testing::makeRunResult(40, 30);
    auto chart = edgesse::charts::buildChart(kind, result, {theme});
    QVERIFY(chart);
    QVERIFY(!chart->series().isEmpty());
    QTemporaryDir temporary;
    const QString dir = dirForCharts(temporary);
    QDir().mkpath(dir);
    const QString stem = QDir(dir).filePath(edgesse::charts::chartFileStem(kind)
                                            + (theme == Theme::Dark ? QStringLiteral("-dark") : QString()));
    ExportOptions options;
    QString error;
    QVERIFY2(edgesse::charts::exportPng(chart.get(), stem + QStringLiteral(".png"), options, &error), qPrintable(error));
    QVERIFY2(edgesse::charts::exportSvg(chart.get(), stem + QStringLiteral(".svg"), options, &error), qPrintable(error));

    const QImage image(stem + QStringLiteral(".png"));
    QCOMPARE(image.size(), options.size * 2);
    QVERIFY2(distinctColours(image) > 50, "the PNG looks blank");
    // Background follows the theme.
    const QColor corner = image.pixelColor(2, 2);
    QVERIFY(theme == Theme::Dark ? corner.lightness() < 80 : corner.lightness() > 200);

    QFile svg(stem + QStringLiteral(".svg"));
    QVERIFY(svg.open(QIODevice::ReadOnly));
    const QByteArray xml = svg.readAll();
    QXmlStreamReader reader(xml);
    while (!reader.atEnd())
        reader.readNext();
    QVERIFY2(!reader.hasError(), qPrintable(reader.errorString()));
    QVERIFY(xml.contains("<svg"));
    QVERIFY(xml.contains(edgesse::charts::chartTitle(kind).toHtmlEscaped().toUtf8()));
    QSvgRenderer renderer(xml);
    QVERIFY(renderer.isValid());
    QCOMPARE(renderer.viewBox().size(), options.size);
}

void TestCharts::exportsTheWholeSet()
{
    QTemporaryDir temporary;
    const QString dir = temporary.filePath(QStringLiteral("charts"));
    QString error;
    const QStringList written = edgesse::charts::exportCharts(edgesse::testing::makeRunResult(10, 5), dir, {}, &error);
    QVERIFY2(!written.isEmpty(), qPrintable(error));
    QCOMPARE(written.size(), 2 * edgesse::charts::allChartKinds().size());
    for (const QString &path : written) {
        QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
        QVERIFY(path.endsWith(QStringLiteral(".png")) || path.endsWith(QStringLiteral(".svg")));
    }
}

void TestCharts::exportReportsAnUnwritableDirectory()
{
    QTemporaryDir temporary;
    QFile blocker(temporary.filePath(QStringLiteral("file")));
    QVERIFY(blocker.open(QIODevice::WriteOnly));
    blocker.close();
    QString error;
    QVERIFY(edgesse::charts::exportCharts(edgesse::testing::makeRunResult(2, 1), blocker.fileName() + QStringLiteral("/x"), {}, &error)
                .isEmpty());
    QVERIFY2(error.contains(QStringLiteral("cannot create the directory")), qPrintable(error));

    auto chart = edgesse::charts::buildChart(ChartKind::LatencyCdf, edgesse::testing::makeRunResult(2, 1));
    QVERIFY(!edgesse::charts::exportPng(chart.get(), blocker.fileName() + QStringLiteral("/a.png"), {}, &error));
    QVERIFY2(error.contains(QStringLiteral("cannot write")), qPrintable(error));
}

void TestCharts::liveUpdateReplacesPoints()
{
    // A live run: the chart is built once from an early snapshot and refreshed in place.
    RunResult early = edgesse::testing::makeRunResult(10, 2);
    early.variants.resize(1);
    auto chart = edgesse::charts::buildChart(ChartKind::LatencyOverTime, early);
    QLineSeries *p99 = lineNamed(chart.get(), QStringLiteral("p99"));
    QVERIFY(p99);
    QCOMPARE(p99->count(), 20);
    const qsizetype seriesBefore = chart->series().size();

    RunResult later = edgesse::testing::makeRunResult(10, 6);
    later.variants.resize(1);
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 20; ++i)
        edgesse::charts::updateChart(chart.get(), ChartKind::LatencyOverTime, later);
    const double perUpdateMs = double(timer.nsecsElapsed()) / 20 / 1e6;
    qInfo("latency-over-time update with %d points: %.3f ms", int(p99->count()), perUpdateMs);
    QCOMPARE(chart->series().size(), seriesBefore);
    QCOMPARE(lineNamed(chart.get(), QStringLiteral("p99")), p99); // the same series object
    QCOMPARE(p99->count(), 60);
    QVERIFY(perUpdateMs < 100); // generous: a 10 Hz refresh must leave the GUI thread free

    // A second variant appearing adds its series; the legend names now carry the variant.
    edgesse::charts::updateChart(chart.get(), ChartKind::LatencyOverTime, edgesse::testing::makeRunResult(10, 6));
    QCOMPARE(chart->series().size(), seriesBefore * 2);
    QVERIFY(lineNamed(chart.get(), QStringLiteral("edge p99")));

    // A new run with one variant: the other's series go, the names lose the prefix.
    edgesse::charts::updateChart(chart.get(), ChartKind::LatencyOverTime, later);
    QCOMPARE(chart->series().size(), seriesBefore);
    QCOMPARE(lineNamed(chart.get(), QStringLiteral("p99")), p99);
    QVERIFY(!lineNamed(chart.get(), QStringLiteral("edge p99")));

    auto cdf = edgesse::charts::buildChart(ChartKind::LatencyCdf, early);
    edgesse::charts::updateChart(cdf.get(), ChartKind::LatencyCdf, later);
    QLineSeries *central = lineNamed(cdf.get(), QStringLiteral("central"));
    QVERIFY(central);
    QCOMPARE(central->at(central->count() - 1).y(), 100.0);
    QCOMPARE(central->at(central->count() - 1).x(), later.variants[0].latency.max);
}

void TestCharts::longLiveLinesKeepPeaksPerPixel()
{
    // Five minutes of 100 ms windows shown live: at most two points per pixel column of the
    // laid-out plot, among them the run's highest and lowest p99 (one spike, one dip); a chart
    // not laid out (an export) keeps every point.
    namespace series = edgesse::metrics::series;
    edgesse::metrics::TimeSeries windows;
    const int p99 = windows.addChannel(series::kLatencyP99, QStringLiteral("ms"));
    const int p50 = windows.addChannel(series::kLatencyP50, QStringLiteral("ms"));
    for (int i = 0; i < 3000; ++i) {
        std::vector<double> row = windows.emptyRow();
        row[std::size_t(p99)] = 50 + 10 * std::sin(i * 0.37) + (i == 1234 ? 400 : 0) - (i == 2345 ? 45 : 0);
        row[std::size_t(p50)] = 20;
        windows.append(row);
    }
    RunResult result;
    result.variants.resize(1);
    result.variants[0].name = QStringLiteral("edge");
    result.variants[0].timeSeries = windows;
    const QList<QPointF> all = windows.points(p99);
    QCOMPARE(all.size(), 3000);
    auto exported = edgesse::charts::buildChart(ChartKind::LatencyOverTime, result);
    QCOMPARE(lineNamed(exported.get(), QStringLiteral("p99"))->count(), all.size());

    QGraphicsScene scene; // outlives the chart, which leaves it when deleted
    auto chart = edgesse::charts::buildChart(ChartKind::LatencyOverTime, RunResult{});
    scene.addItem(chart.get());
    chart->resize(QSizeF(960, 560));
    chart->layout()->activate();
    const int columns = int(chart->plotArea().width());
    QVERIFY2(columns > 200 && all.size() > 2 * columns, qPrintable(QString::number(columns)));
    edgesse::charts::updateChart(chart.get(), ChartKind::LatencyOverTime, result);
    QLineSeries *line = lineNamed(chart.get(), QStringLiteral("p99"));
    QVERIFY(line);
    QVERIFY2(line->count() <= 2 * columns + 2, qPrintable(QStringLiteral("%1 points for %2 columns").arg(line->count()).arg(columns)));
    const auto byY = [](const QPointF &a, const QPointF &b) { return a.y() < b.y(); };
    const QList<QPointF> shown = line->points();
    QCOMPARE(std::max_element(shown.begin(), shown.end(), byY)->y(), std::max_element(all.begin(), all.end(), byY)->y());
    QCOMPARE(std::min_element(shown.begin(), shown.end(), byY)->y(), std::min_element(all.begin(), all.end(), byY)->y());
    QVERIFY(std::is_sorted(shown.begin(), shown.end(), [](const QPointF &a, const QPointF &b) { return a.x() < b.x(); }));
}

void TestCharts::barsFollowTheResult()
{
    RunResult result = edgesse::testing::makeRunResult(10, 12);
    auto chart = edgesse::charts::buildChart(ChartKind::ReconnectsAndLoss, result);
    auto *bars = qobject_cast<QAbstractBarSeries *>(chart->series().at(0));
    QVERIFY(bars);
    QCOMPARE(bars->count(), 2);
    QCOMPARE(bars->barSets().at(0)->label(), QStringLiteral("Reconnects"));
    QCOMPARE(bars->barSets().at(0)->at(0), qreal(result.variants[0].streams.reconnects));
    QCOMPARE(bars->barSets().at(1)->at(0), qreal(result.variants[0].events.lost));
    QVERIFY(result.variants[0].streams.reconnects > 0);
    QCOMPARE(bars->barSets().at(0)->at(1), 0.0);

    QBarSet *kept = bars->barSets().at(0);
    result.variants[0].streams.reconnects = 99;
    edgesse::charts::updateChart(chart.get(), ChartKind::ReconnectsAndLoss, result);
    QCOMPARE(bars->barSets().at(0), kept);
    QCOMPARE(kept->at(0), 99.0);

    auto percentiles = edgesse::charts::buildChart(ChartKind::LatencyPercentiles, result);
    auto *pbars = qobject_cast<QAbstractBarSeries *>(percentiles->series().at(0));
    QCOMPARE(pbars->count(), 2); // one set per variant
    QVERIFY(std::abs(pbars->barSets().at(1)->at(0) - result.variants[1].latency.p50) < 0.01);
}

void TestCharts::emptyResultStillRenders()
{
    RunResult empty;
    empty.variants.emplace_back();
    empty.variants[0].name = QStringLiteral("nothing yet");
    QTemporaryDir temporary;
    QString error;
    const QStringList written = edgesse::charts::exportCharts(empty, temporary.path(), {}, &error);
    QVERIFY2(!written.isEmpty(), qPrintable(error));
    QCOMPARE(written.size(), 2 * edgesse::charts::allChartKinds().size());
}

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
