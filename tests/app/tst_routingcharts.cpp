// The routing scenarios' results (as `edgesse run` wrote them, kept under
// tests/data/results/routing) opened in the app on the offscreen platform: the comparison
// view holds the instance, connection, move and attempt charts, each drawn from the run's
// routing channels and not an empty plot; the instance count matches what the scenario's
// audience and cap call for; one chart exports as PNG and SVG, its 503s per second adding up
// to the run's count.
#include "app/charts/charts.h"
#include "app/gui/chartgrid.h"
#include "app/gui/comparisonview.h"
#include "app/gui/mainwindow.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QFile>
#include <QGraphicsSimpleTextItem>
#include <QImage>
#include <QLineSeries>
#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <memory>

using namespace edgesse;
using namespace edgesse::gui;
using charts::ChartKind;

static void initResources()
{
    Q_INIT_RESOURCE(edgesse);
}

namespace {

const QList<ChartKind> kRoutingKinds{ChartKind::InstancesOverTime, ChartKind::InstanceConnections, ChartKind::ConnectionsMoved,
                                     ChartKind::AttemptsAnd503s};

QString resultsOf(const QString &scenario)
{
    return QStringLiteral(EDGESSE_SOURCE_DIR "/tests/data/results/routing/") + scenario + QStringLiteral(".json");
}

// The highest y of the line series whose object name starts with `key` (-1: none has points).
double peak(QChart *chart, const QString &key)
{
    double top = -1;
    for (QAbstractSeries *s : chart->series()) {
        auto *line = qobject_cast<QLineSeries *>(s);
        if (!line || !line->objectName().startsWith(key))
            continue;
        for (const QPointF &p : line->points())
            top = std::max(top, p.y());
    }
    return top;
}

QString noteOf(QChart *chart)
{
    for (QGraphicsItem *child : chart->childItems())
        if (child->data(0).toString() == QLatin1String("edgesseNote") && child->isVisible())
            return static_cast<QGraphicsSimpleTextItem *>(child)->text();
    return {};
}

} // namespace

class TestRoutingCharts final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void chartsShowTheRun_data();
    void chartsShowTheRun();
    void exportsAsPngAndSvg();

private:
    QTemporaryDir m_dir;
};

void TestRoutingCharts::initTestCase()
{
    QVERIFY(m_dir.isValid());
    initResources();
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeSSE-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_routingcharts"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
    QSettings().clear();
}

void TestRoutingCharts::chartsShowTheRun_data()
{
    // The chart series a run must draw above zero, by key prefix (channel + variant/node),
    // and the most instances one node must have run (0: not checked).
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QStringList>("drawn");
    QTest::addColumn<QString>("instancesKey");
    QTest::addColumn<int>("instances");
    // A crashed PoP: its attempts and, at Amsterdam's 100/s accept rate, the storm's 503s.
    QTest::newRow("pop-failover") << QStringLiteral("pop-failover")
                                  << QStringList{QStringLiteral("instances:replay-browser-retry/pop-fra"),
                                                 QStringLiteral("instance_connections:replay-browser-retry/pop-fra#0"),
                                                 QStringLiteral("attempts:replay-browser-retry/pop-ams"),
                                                 QStringLiteral("rejected:replay-browser-retry/pop-ams")}
                                  << QStringLiteral("instances:replay-browser-retry/pop-fra") << 2;
    // 300 browsers at 50 connections an instance: ceil(300 / 50) = 6 instances.
    QTest::newRow("instance-caps-and-autoscaling")
        << QStringLiteral("instance-caps-and-autoscaling")
        << QStringList{QStringLiteral("instances:shared-upstream/pop-iad"), QStringLiteral("instance_connections:shared-upstream/pop-iad#5"),
                       QStringLiteral("attempts:shared-upstream/pop-iad"), QStringLiteral("rejected:reject-while-cold/pop-iad")}
        << QStringLiteral("instances:shared-upstream/pop-iad") << 6;
    // Four instances restarting one by one: clients move under every policy.
    QTest::newRow("sticky-vs-round-robin")
        << QStringLiteral("sticky-vs-round-robin")
        << QStringList{QStringLiteral("instances:round-robin/pop-osa"), QStringLiteral("instance_connections:hash/pop-osa#3"),
                       QStringLiteral("moved:round-robin/pop-osa"), QStringLiteral("moved:hash/pop-osa"),
                       QStringLiteral("attempts:least-connections/pop-osa")}
        << QStringLiteral("instances:round-robin/pop-osa") << 4;
}

void TestRoutingCharts::chartsShowTheRun()
{
    QFETCH(QString, scenario);
    QFETCH(QStringList, drawn);
    QFETCH(QString, instancesKey);
    QFETCH(int, instances);
    auto window = std::make_unique<MainWindow>();
    window->setUntitledRunsRoot(m_dir.filePath(QStringLiteral("untitled")));
    window->show();
    QVERIFY(QTest::qWaitForWindowExposed(window.get()));
    QVERIFY2(window->openFile(resultsOf(scenario), true), qPrintable(resultsOf(scenario)));
    window->views()->setCurrentWidget(window->comparisonView());
    ChartGrid *grid = window->comparisonView()->charts();
    QTRY_VERIFY(grid->refreshCount() > 0);
    for (ChartKind kind : kRoutingKinds) {
        QChartView *view = grid->view(kind);
        QVERIFY2(view && view->chart(), qPrintable(charts::chartFileStem(kind)));
        QCOMPARE(view->chart()->title(), charts::chartTitle(kind));
    }
    const auto chartFor = [&](const QString &key) {
        const QString channel = key.section(QLatin1Char(':'), 0, 0);
        const ChartKind kind = channel == QLatin1String("instances")              ? ChartKind::InstancesOverTime
                               : channel == QLatin1String("instance_connections") ? ChartKind::InstanceConnections
                               : channel == QLatin1String("moved")                ? ChartKind::ConnectionsMoved
                                                                                  : ChartKind::AttemptsAnd503s;
        return grid->view(kind)->chart();
    };
    for (const QString &key : drawn) {
        QChart *chart = chartFor(key);
        QVERIFY2(peak(chart, key) > 0, qPrintable(key + QStringLiteral(": ") + QString::number(peak(chart, key))));
        QVERIFY2(noteOf(chart).isEmpty(), qPrintable(noteOf(chart)));
    }
    QCOMPARE(int(std::lround(peak(chartFor(instancesKey), instancesKey))), instances);
    window->close();
}

void TestRoutingCharts::exportsAsPngAndSvg()
{
    QFile file(resultsOf(QStringLiteral("pop-failover")));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const auto result = metrics::RunResult::fromJsonBytes(file.readAll());
    QVERIFY(result.has_value());
    const auto chart = charts::buildChart(ChartKind::AttemptsAnd503s, *result);
    const QString png = m_dir.filePath(QStringLiteral("attempts-and-503s.png"));
    const QString svg = m_dir.filePath(QStringLiteral("attempts-and-503s.svg"));
    QString error;
    QVERIFY2(charts::exportPng(chart.get(), png, {}, &error), qPrintable(error));
    QVERIFY2(charts::exportSvg(chart.get(), svg, {}, &error), qPrintable(error));
    const QImage image(png);
    QCOMPARE(image.size(), charts::ExportOptions().size * 2);
    QFile written(svg);
    QVERIFY(written.open(QIODevice::ReadOnly));
    const QByteArray xml = written.readAll();
    QVERIFY(xml.contains(charts::chartTitle(ChartKind::AttemptsAnd503s).toUtf8()));
    // The 503 line, per second, adds up to the run's count of 503s at that node over the
    // measured window (after the scenario's 2 s warm-up, for its 20 s).
    const metrics::VariantResult &v = result->variants.front();
    QCOMPARE(v.durationS, 20.0);
    const double window = std::chrono::duration<double>(v.timeSeries.viewInterval()).count();
    double rejected = 0;
    for (QAbstractSeries *s : chart->series())
        if (auto *line = qobject_cast<QLineSeries *>(s); line && line->objectName() == QStringLiteral("rejected:%1/pop-ams").arg(v.name))
            for (const QPointF &p : line->points())
                rejected += p.x() > 2.0 + 1e-6 && p.x() <= 22.0 + 1e-6 ? p.y() * window : 0;
    QVERIFY(v.connections.rejectedByNode.at(QStringLiteral("pop-ams")) > 0);
    QCOMPARE(std::llround(rejected), qint64(v.connections.rejectedByNode.at(QStringLiteral("pop-ams"))));
}

QTEST_MAIN(TestRoutingCharts)
#include "tst_routingcharts.moc"
