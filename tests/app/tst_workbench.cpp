// The app as a results workbench, on the offscreen platform: runs kept and reopened as
// documents, compared against a baseline, state that follows the open document, files
// handled safely, legends whole, colours stable; and `edgesse compare` / `merge` on real runs.
#include "app/charts/charts.h"
#include "app/gui/chartgrid.h"
#include "app/gui/codeeditor.h"
#include "app/gui/comparisonview.h"
#include "app/gui/mainwindow.h"
#include "app/gui/runpanel.h"
#include "app/gui/runspanel.h"
#include "app/gui/theme.h"
#include "app/gui/topologyview.h"
#include "app/gui/variantlist.h"
#include "app/runs/comparison.h"
#include "app/runs/runstore.h"
#include "core/sim/runcontroller.h"
#include "../metricsfixture.h"

#include <QAction>
#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QImage>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QLineSeries>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QProgressBar>
#include <QRegularExpression>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStyle>
#include <QStyleOptionViewItem>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextDocument>
#include <QTimer>
#include <QTreeWidget>

#include <cmath>
#include <functional>

#include <sys/stat.h>

using namespace edgesse;
using namespace edgesse::gui;

static void initResources()
{
    Q_INIT_RESOURCE(edgesse);
}

namespace {

QByteArray scenarioText(const QString &duration, int clients)
{
    return QStringLiteral(R"(name: Workbench test
question: Does the edge beat central in latency and origin connections?
seed: 7
duration: %1
warmup: 500ms
nodes:
  origin:  { kind: origin, region: us-east }
  pop-fra: { kind: pop, region: eu-central }
clients:
  - { name: berlin, count: %2, near: pop-fra, streams: 1 }
links:
  - { between: [berlin, pop-fra], latency: 5ms, jitter: 1ms }
  - { between: [pop-fra, origin], latency: 20ms, jitter: 2ms }
  - { between: [berlin, origin],  latency: 45ms, jitter: 2ms }
publisher: { at: origin, rate: 20/s, payload: 128B }
sse: { heartbeat: 5s, retry: 1s }
variants:
  - { name: central, placement: central, protocol: http1 }
  - { name: edge,    placement: edge,    protocol: http2 }
)")
        .arg(duration)
        .arg(clients)
        .toUtf8();
}

// A two-variant result as the engine shapes it, with two audiences whose p50 differ by
// known amounts between the variants.
metrics::RunResult twoAudienceResult()
{
    metrics::RunResult r = testing::makeRunResult(8, 3);
    r.scenarioQuestion = QStringLiteral("Does the edge beat central in latency and origin connections?");
    r.scenarioVariants = {QStringLiteral("central"), QStringLiteral("edge"), QStringLiteral("edge-h1")};
    r.scenarioText = QString::fromUtf8(scenarioText(QStringLiteral("2s"), 3));
    for (metrics::VariantResult &v : r.variants) {
        metrics::GroupResult second = v.groups.front();
        second.name = QStringLiteral("new-york");
        v.groups.push_back(second);
    }
    r.variants[0].groups[0].latency.p50 = 60;
    r.variants[1].groups[0].latency.p50 = 48;  // berlin −12 ms
    r.variants[0].groups[1].latency.p50 = 30;
    r.variants[1].groups[1].latency.p50 = 29.9; // new-york: no meaningful change
    r.variants[0].connections.originMax = 200;
    r.variants[1].connections.originMax = 3;
    return r;
}

QString writeFile(const QString &path, const QByteArray &bytes)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size())
        return {};
    return path;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// Runs `callback` on the next modal dialog to appear (a message box or a file dialog).
void whenModal(const std::function<void(QWidget *)> &callback)
{
    auto *timer = new QTimer(qApp);
    timer->setInterval(20);
    QObject::connect(timer, &QTimer::timeout, qApp, [timer, callback] {
        if (QWidget *modal = QApplication::activeModalWidget()) {
            timer->stop();
            timer->deleteLater();
            callback(modal);
        }
    });
    timer->start();
}

// WCAG 2.1 relative luminance and contrast ratio (from the definition, not from the app's theme).
double luminance(const QColor &c)
{
    const auto channel = [](double v) { return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF());
}

double contrast(const QColor &a, const QColor &b)
{
    const double la = luminance(a);
    const double lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// The colour most pixels of `column` (x) between y0 and y1 have.
QRgb commonColour(const QImage &image, int x, int y0, int y1)
{
    QHash<QRgb, int> counts;
    for (int y = y0; y <= y1; ++y)
        ++counts[image.pixel(x, y)];
    QRgb best = 0;
    int most = -1;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        if (it.value() > most) {
            most = it.value();
            best = it.key();
        }
    return best;
}

QColor lineColor(QChart *chart, const QString &key)
{
    for (QAbstractSeries *s : chart->series())
        if (s->objectName() == key)
            return static_cast<QLineSeries *>(s)->pen().color();
    return {};
}

int rowOf(const QString &header)
{
    const QList<runs::Figure> figures = runs::totalFigures();
    for (int i = 0; i < figures.size(); ++i)
        if (figures.at(i).header == header)
            return i;
    return -1;
}

} // namespace

class TestWorkbench final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void legendsAreWholeAtTheDefaultSize();
    void resultsJsonOpensAsResults();
    void baselineShowsDeltaAndPercent();
    void verdictAndBestMarks();
    void runsAreKeptAndListed();
    void stateResetsOnOpen();
    void binaryFileIsRefusedAndLeftIdentical();
    void nothingWrittenWhenNothingChanged();
    void saveAsAddsYaml();
    void quitDuringRunCancelKeepsTheRun();
    void variantColoursStableAcrossRuns();
    void compareAndMergeOnRealResults();
    void selectedVariantPathIsHighlighted();
    void uncheckedBoxesReadableInDark();
    void topologyKeptForNonStructuralProblems();
    void warmupIsShaded();
    void darkPaletteExport();
    void runsInTheSameSecondKeepTheirNames();

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestWorkbench::initTestCase()
{
    QVERIFY(m_dir.isValid());
    initResources();
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeSSE-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_workbench"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
    QSettings().clear();
}

void TestWorkbench::init()
{
    m_window = std::make_unique<MainWindow>();
    m_window->setUntitledRunsRoot(m_dir.filePath(QStringLiteral("untitled")));
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestWorkbench::cleanup()
{
    applyColorScheme(*qApp, ColorScheme::Light);
    if (m_window) {
        m_window->stopRun();
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 10000);
        m_window->editor()->document()->setModified(false);
        m_window->close();
        m_window.reset();
    }
}

void TestWorkbench::legendsAreWholeAtTheDefaultSize()
{
    metrics::RunResult r = twoAudienceResult();
    r.variants[0].name = QStringLiteral("central-http1-long-name");
    r.variants[1].name = QStringLiteral("edge-http2-shared-upstream");
    r.scenarioVariants = {r.variants[0].name, r.variants[1].name};
    m_window->comparisonView()->setResult(r);
    m_window->views()->setCurrentWidget(m_window->comparisonView());
    ChartGrid *grid = m_window->comparisonView()->charts();
    QTRY_VERIFY(grid->refreshCount() > 0);
    QTest::qWait(50);
    for (charts::ChartKind kind : {charts::ChartKind::LatencyCdf, charts::ChartKind::LatencyPercentiles}) {
        QLabel *legend = grid->legend(kind);
        QVERIFY(legend);
        QVERIFY(!grid->view(kind)->chart()->legend()->isVisible()); // Qt's own legend elides; it is not shown
        QTextDocument doc;
        doc.setHtml(legend->text());
        const QString shown = doc.toPlainText();
        for (const metrics::VariantResult &v : r.variants)
            QVERIFY2(shown.contains(v.name), qPrintable(shown));
        QVERIFY(!shown.contains(QChar(0x2026))); // no "…"
        QVERIFY(legend->wordWrap());
        QTRY_VERIFY2(legend->heightForWidth(legend->width()) <= legend->height() + 1, "the legend is cut");
    }
}

void TestWorkbench::resultsJsonOpensAsResults()
{
    const metrics::RunResult r = twoAudienceResult();
    const QString path = writeFile(m_dir.filePath(QStringLiteral("results.json")), QJsonDocument(r.toJson()).toJson());
    QVERIFY(!path.isEmpty());
    QVERIFY(m_window->openFile(path, true));
    QVERIFY(m_window->isReadOnlyDocument());
    QVERIFY(m_window->editor()->isReadOnly());
    QCOMPARE(m_window->editor()->toPlainText(), r.scenarioText);
    QVERIFY2(m_window->diagnostics().isEmpty(), "the scenario text it was run from validates");
    QCOMPARE(m_window->views()->currentWidget(), m_window->comparisonView());
    QCOMPARE(m_window->comparisonView()->table()->columnCount(), 2);
    QVERIFY(m_window->comparisonView()->header()->text().contains(QStringLiteral("Does the edge beat central")));
    QVERIFY(!m_window->action(QStringLiteral("actionRun"))->isEnabled());
    QVERIFY(!m_window->action(QStringLiteral("actionSave"))->isEnabled());
    QVERIFY(m_window->action(QStringLiteral("actionExport"))->isEnabled());
    QVERIFY(m_window->windowTitle().contains(QStringLiteral("read-only")));
}

void TestWorkbench::baselineShowsDeltaAndPercent()
{
    metrics::RunResult r = twoAudienceResult();
    r.variants[0].latency.p50 = 100;
    r.variants[1].latency.p50 = 80;
    ComparisonView *view = m_window->comparisonView();
    view->setResult(r);
    QTableWidget *table = view->table();
    const int p50 = rowOf(QStringLiteral("p50 ms"));
    // Baseline central: edge is 20 ms (20%) lower.
    QCOMPARE(table->item(p50, 0)->text(), QStringLiteral("100.0"));
    QCOMPARE(table->item(p50, 1)->text(), QStringLiteral("80.0\n\u221220.0 (\u221220.0%)"));
    QVERIFY(table->horizontalHeaderItem(0)->text().contains(QStringLiteral("baseline")));
    // Baseline edge: central is 20 ms (25%) higher.
    view->baselineBox()->setCurrentIndex(1);
    QCOMPARE(table->item(p50, 0)->text(), QStringLiteral("100.0\n+20.0 (+25.0%)"));
    QCOMPARE(table->item(p50, 1)->text(), QStringLiteral("80.0"));
    QVERIFY(table->horizontalHeaderItem(1)->text().contains(QStringLiteral("baseline")));
}

void TestWorkbench::verdictAndBestMarks()
{
    runs::Comparison c = runs::compare({twoAudienceResult()});
    const QStringList verdict = c.verdict();
    QCOMPARE(verdict.size(), 1);
    QVERIFY2(verdict.first().startsWith(QStringLiteral("edge vs central: p50 \u221212 ms for berlin")), qPrintable(verdict.first()));
    QVERIFY2(!verdict.first().contains(QStringLiteral("new-york")), qPrintable(verdict.first())); // 0.1 ms is no change
    QVERIFY2(verdict.first().contains(QStringLiteral("origin connections 3 vs 200")), qPrintable(verdict.first()));

    // Nothing lost anywhere: neither "delivered" nor "lost" is marked best.
    metrics::RunResult r = twoAudienceResult();
    for (metrics::VariantResult &v : r.variants) {
        v.events.lost = 0;
        v.events.expected = v.events.delivered;
    }
    r.variants[1].events.delivered = r.variants[0].events.delivered / 2; // fewer expected, none lost
    r.variants[1].events.expected = r.variants[1].events.delivered;
    ComparisonView *view = m_window->comparisonView();
    view->setResult(r);
    for (const QString &figure : {QStringLiteral("delivered"), QStringLiteral("delivered %"), QStringLiteral("lost")})
        for (int c2 = 0; c2 < 2; ++c2)
            QVERIFY2(!view->table()->item(rowOf(figure), c2)->font().bold(), qPrintable(figure));
    // Origin connections 3 vs 200 differ meaningfully: the lower is marked.
    QVERIFY(view->table()->item(rowOf(QStringLiteral("origin conn")), 1)->font().bold());
    QVERIFY(view->groupTable()->isVisibleTo(view));
    QCOMPARE(view->groupTable()->rowCount(), 2 * runs::groupFigures().size());
}

void TestWorkbench::runsAreKeptAndListed()
{
    const QString path = writeFile(m_dir.filePath(QStringLiteral("kept.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    QCOMPARE(m_window->runsPanel()->count(), 0);
    metrics::RunResult three = twoAudienceResult();
    three.startedAt = QStringLiteral("2026-12-01T10:00:00Z");
    emit m_window->runController()->finished(three);
    metrics::RunResult edgeOnly = twoAudienceResult();
    edgeOnly.startedAt = QStringLiteral("2026-12-01T10:05:00Z");
    edgeOnly.variants.erase(edgeOnly.variants.begin());
    emit m_window->runController()->finished(edgeOnly);
    RunsPanel *panel = m_window->runsPanel();
    QCOMPARE(panel->count(), 2);
    // Running edge alone did not throw the two-variant comparison away.
    QVERIFY(panel->isChecked(0) && panel->isChecked(1));
    QCOMPARE(m_window->comparisonView()->table()->columnCount(), 3);
    QVERIFY(m_window->comparisonView()->comparison().indexOf(QStringLiteral("edge · 10:05:00")) >= 0);
    // Kept on disk under the scenario's results folder, named by time and variants (written
    // off the GUI thread).
    m_window->waitForKeptRuns();
    const QString folder = m_dir.filePath(QStringLiteral("kept-results/runs"));
    QVERIFY2(QFileInfo::exists(folder + QStringLiteral("/2026-12-01_10-00-00_central+edge/results.json")), qPrintable(folder));
    QVERIFY(QFileInfo::exists(folder + QStringLiteral("/2026-12-01_10-05-00_edge/results.json")));
    const auto kept = metrics::RunResult::fromJsonBytes(readFile(folder + QStringLiteral("/2026-12-01_10-05-00_edge/results.json")));
    QVERIFY(kept.has_value());
    QCOMPARE(kept->scenarioText, QString::fromUtf8(scenarioText(QStringLiteral("2s"), 3)));
    QCOMPARE(kept->scenarioQuestion, QStringLiteral("Does the edge beat central in latency and origin connections?"));

    // Reopening the scenario lists both runs again.
    QVERIFY(m_window->openFile(path, true));
    QCOMPARE(m_window->runsPanel()->count(), 2);
    m_window->runsPanel()->setChecked(1, true);
    QCOMPARE(m_window->comparisonView()->table()->columnCount(), 1);
}

void TestWorkbench::stateResetsOnOpen()
{
    const QString first = writeFile(m_dir.filePath(QStringLiteral("first.yaml")), scenarioText(QStringLiteral("2s"), 3));
    const QString second = writeFile(m_dir.filePath(QStringLiteral("second.yaml")), scenarioText(QStringLiteral("3s"), 4));
    QVERIFY(m_window->openFile(first, true));
    m_window->variantList()->setChecked(QStringLiteral("central"), false);
    emit m_window->runController()->failed(QStringLiteral("variant edge: the origin could not listen"));
    emit m_window->runController()->finished(twoAudienceResult());
    QVERIFY(m_window->lastResult().has_value());
    QVERIFY(m_window->action(QStringLiteral("actionExport"))->isEnabled());
    m_window->editor()->goTo(5, 3);

    QVERIFY(m_window->openFile(second, true));
    QVERIFY(!m_window->lastResult().has_value());
    QVERIFY(m_window->comparisonView()->comparison().isEmpty());
    QVERIFY(!m_window->action(QStringLiteral("actionExport"))->isEnabled());
    QCOMPARE(m_window->runsPanel()->count(), 0);
    QVERIFY(!m_window->runPanel()->failureLabel()->isVisible());
    QVERIFY(m_window->liveFigures()->text().startsWith(QStringLiteral("Nothing running")));
    QCOMPARE(m_window->liveCharts()->result().variants.size(), std::size_t(0));
    // Checks do not carry over by name.
    QCOMPARE(m_window->variantList()->checkedVariants(), (QStringList{QStringLiteral("central"), QStringLiteral("edge")}));
    QCOMPARE(m_window->cursorLabel()->text(), QStringLiteral("Ln 1, Col 1"));

    m_window->newScenario();
    QVERIFY(m_window->comparisonView()->comparison().isEmpty());
    QVERIFY(m_window->currentFile().isEmpty());
}

void TestWorkbench::binaryFileIsRefusedAndLeftIdentical()
{
    QImage image(64, 48, QImage::Format_RGB32);
    image.fill(Qt::darkCyan);
    const QString png = m_dir.filePath(QStringLiteral("picture.png"));
    QVERIFY(image.save(png, "PNG"));
    const QByteArray before = readFile(png);
    const QString latin1 = writeFile(m_dir.filePath(QStringLiteral("latin1.yaml")), QByteArray("name: Caf\xe9\n"));
    const QString open = writeFile(m_dir.filePath(QStringLiteral("open.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(open, true));

    QVERIFY(!m_window->openFile(png, true));
    QVERIFY(!m_window->openFile(latin1, true));
    QCOMPARE(m_window->currentFile(), QFileInfo(open).absoluteFilePath()); // the open document stays
    QTest::keyClick(m_window->editor(), Qt::Key_S, Qt::ControlModifier);
    QCOMPARE(readFile(png), before);
    QCOMPARE(readFile(latin1), QByteArray("name: Caf\xe9\n"));
}

void TestWorkbench::nothingWrittenWhenNothingChanged()
{
    const QString path = writeFile(m_dir.filePath(QStringLiteral("same.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    struct stat before{};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &before), 0);
    QTest::keyClick(m_window->editor(), Qt::Key_S, Qt::ControlModifier);
    QVERIFY(m_window->saveTo(path));
    struct stat after{};
    QCOMPARE(::stat(QFile::encodeName(path).constData(), &after), 0);
    QCOMPARE(after.st_ino, before.st_ino); // a save would have replaced the file
    QCOMPARE(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
    QCOMPARE(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
}

void TestWorkbench::saveAsAddsYaml()
{
    QCOMPARE(MainWindow::withScenarioSuffix(QStringLiteral("/tmp/name")), QStringLiteral("/tmp/name.yaml"));
    QCOMPARE(MainWindow::withScenarioSuffix(QStringLiteral("/tmp/name.yml")), QStringLiteral("/tmp/name.yml"));
    QVERIFY(m_window->action(QStringLiteral("actionSaveAs"))->shortcuts().contains(QKeySequence(QStringLiteral("Ctrl+Shift+S"))));
    // Through the real dialog, as a user: the folder, a name typed without an extension, Save.
    // (QFileDialog::selectFile() leaves the name field alone once it has keyboard focus, so a
    // test that selects the file passes or fails with the moment the dialog became active;
    // typing into the field does not depend on that.)
    const QString folder = m_dir.filePath(QStringLiteral("save-as"));
    QVERIFY(QDir().mkpath(folder));
    const QString typed = QDir(folder).filePath(QStringLiteral("typed"));
    QString seen;
    whenModal([folder, &seen](QWidget *modal) {
        auto *dialog = qobject_cast<QFileDialog *>(modal);
        seen = QString::fromLatin1(modal->metaObject()->className());
        if (!dialog) {
            modal->close();
            return;
        }
        dialog->setDirectory(folder);
        auto *name = dialog->findChild<QLineEdit *>(QStringLiteral("fileNameEdit"));
        auto *buttons = dialog->findChild<QDialogButtonBox *>(QStringLiteral("buttonBox"));
        if (!name || !buttons) {
            dialog->reject();
            return;
        }
        name->setFocus();
        name->selectAll();
        QTest::keyClicks(name, QStringLiteral("typed"));
        QPushButton *save = buttons->button(QDialogButtonBox::Save);
        if (!save)
            save = buttons->button(QDialogButtonBox::Open);
        QMetaObject::invokeMethod(save ? static_cast<QObject *>(save) : dialog, save ? "click" : "accept", Qt::QueuedConnection);
    });
    m_window->action(QStringLiteral("actionSaveAs"))->trigger();
    QCOMPARE(seen, QStringLiteral("QFileDialog"));
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo::exists(typed + QStringLiteral(".yaml")), 20000); // a loaded machine is slow to show the dialog
    QVERIFY(!QFileInfo::exists(typed));
    QVERIFY(!QFileInfo::exists(QDir(folder).filePath(QStringLiteral("scenario.yaml")))); // not the suggested name
    QCOMPARE(m_window->currentFile(), typed + QStringLiteral(".yaml"));
    QCOMPARE(readFile(typed + QStringLiteral(".yaml")), m_window->editor()->toPlainText().toUtf8());
}

void TestWorkbench::quitDuringRunCancelKeepsTheRun()
{
    const QString path = writeFile(m_dir.filePath(QStringLiteral("long.yaml")), scenarioText(QStringLiteral("60s"), 5));
    QVERIFY(m_window->openFile(path, true));
    QVERIFY(m_window->startRun());
    QTRY_VERIFY_WITH_TIMEOUT(m_window->runPanel()->progressBar()->value() > 0, 30000);
    bool asked = false;
    whenModal([&asked](QWidget *modal) {
        auto *box = qobject_cast<QMessageBox *>(modal);
        asked = box && box->objectName() == QStringLiteral("quitWhileRunningBox");
        if (box)
            box->button(QMessageBox::Cancel)->click();
    });
    QVERIFY(!m_window->close());
    QVERIFY(asked);
    QVERIFY(m_window->isVisible());
    QVERIFY2(m_window->isRunning(), "Cancel leaves the run going");
    const int before = m_window->runPanel()->progressBar()->value();
    QTRY_VERIFY_WITH_TIMEOUT(m_window->runPanel()->progressBar()->value() > before, 30000);
}

void TestWorkbench::variantColoursStableAcrossRuns()
{
    metrics::RunResult both = twoAudienceResult();
    metrics::RunResult edgeOnly = both;
    edgeOnly.variants.erase(edgeOnly.variants.begin());
    const auto cdf = [](const metrics::RunResult &r) { return charts::buildChart(charts::ChartKind::LatencyCdf, r); };
    const QColor inBoth = lineColor(cdf(both).get(), QStringLiteral("cdf:edge"));
    const QColor alone = lineColor(cdf(edgeOnly).get(), QStringLiteral("cdf:edge"));
    QVERIFY(inBoth.isValid());
    QCOMPARE(alone, inBoth);
    QVERIFY(lineColor(cdf(both).get(), QStringLiteral("cdf:central")) != inBoth);
    // Across runs compared together, the same name keeps the colour.
    edgeOnly.startedAt = QStringLiteral("2026-12-01T10:05:00Z");
    const metrics::RunResult compared = runs::compare({both, edgeOnly}).asRunResult();
    QCOMPARE(lineColor(cdf(compared).get(), QStringLiteral("cdf:edge · 10:05:00")), inBoth);
}

void TestWorkbench::compareAndMergeOnRealResults()
{
    const QString edgesse = QStringLiteral(EDGESSE_BINARY_DIR "/app/edgesse");
    if (!QFileInfo::exists(edgesse))
        QSKIP("the edgesse executable is not built");
    const QString scenario = writeFile(m_dir.filePath(QStringLiteral("cli.yaml")), scenarioText(QStringLiteral("1s"), 3));
    const auto run = [&](const QStringList &args, QByteArray *out = nullptr) {
        QProcess p;
        p.start(edgesse, args);
        if (!p.waitForFinished(120000))
            return -1;
        if (out)
            *out = p.readAllStandardOutput();
        if (p.exitCode() != 0)
            qWarning("%s", p.readAllStandardError().constData());
        return p.exitCode();
    };
    const QString a = m_dir.filePath(QStringLiteral("job-central"));
    const QString b = m_dir.filePath(QStringLiteral("job-edge"));
    QCOMPARE(run({QStringLiteral("run"), scenario, QStringLiteral("--variant"), QStringLiteral("central"), QStringLiteral("--out"), a}), 0);
    QCOMPARE(run({QStringLiteral("run"), scenario, QStringLiteral("--variant"), QStringLiteral("edge"), QStringLiteral("--out"), b}), 0);
    const QString merged = m_dir.filePath(QStringLiteral("merged.json"));
    // Given in the "wrong" order, merged in the scenario's.
    QCOMPARE(run({QStringLiteral("merge"), merged, b + QStringLiteral("/results.json"), a + QStringLiteral("/results.json")}), 0);
    const QJsonObject json = QJsonDocument::fromJson(readFile(merged)).object();
    const QJsonArray variants = json.value(QStringLiteral("variants")).toArray();
    QCOMPARE(variants.size(), 2);
    QCOMPARE(variants.at(0).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("central"));
    QCOMPARE(variants.at(1).toObject().value(QStringLiteral("name")).toString(), QStringLiteral("edge"));
    QCOMPARE(json.value(QStringLiteral("scenario")).toObject().value(QStringLiteral("text")).toString(),
             QString::fromUtf8(scenarioText(QStringLiteral("1s"), 3)));
    // The same variant twice is refused.
    QCOMPARE(run({QStringLiteral("merge"), m_dir.filePath(QStringLiteral("twice.json")), a + QStringLiteral("/results.json"),
                  a + QStringLiteral("/results.json")}),
             2);

    QByteArray table;
    QCOMPARE(run({QStringLiteral("compare"), a + QStringLiteral("/results.json"), b + QStringLiteral("/results.json"),
                  QStringLiteral("--baseline"), QStringLiteral("edge")},
                 &table),
             0);
    // Independently of the comparison code: edge's and central's p50 from the files.
    const auto p50 = [](const QJsonObject &v) { return v.value(QStringLiteral("latency_ms")).toObject().value(QStringLiteral("p50")).toDouble(); };
    const double central = p50(variants.at(0).toObject());
    const double edge = p50(variants.at(1).toObject());
    QVERIFY(central > edge); // 45 ms one way against 5 + 20 ms through the relay
    const QString text = QString::fromUtf8(table);
    QVERIFY2(text.contains(QStringLiteral("edge (baseline)")), qPrintable(text));
    const QString delta = QStringLiteral("(+%1, +%2%)")
                              .arg(QString::number(central - edge, 'f', std::abs(central - edge) < 10 ? 2 : 1),
                                   QString::number(100.0 * (central - edge) / edge, 'f', 1));
    QVERIFY2(text.contains(delta), qPrintable(delta + QStringLiteral("\n") + text));
    QVERIFY2(text.contains(QStringLiteral("question: Does the edge beat central")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("verdict: central vs edge: p50 +")), qPrintable(text));
    QCOMPARE(run({QStringLiteral("compare"), a + QStringLiteral("/results.json"), QStringLiteral("--baseline"), QStringLiteral("nope")}), 2);
}

void TestWorkbench::selectedVariantPathIsHighlighted()
{
    const QString path = writeFile(m_dir.filePath(QStringLiteral("paths.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    QListWidget *variants = m_window->variantList()->list();
    TopologyView *topology = m_window->topologyView();
    // From the scenario: central connects berlin straight to the origin; edge goes through pop-fra.
    variants->setCurrentRow(0);
    QCOMPARE(topology->pathItems(), (QStringList{QStringLiteral("berlin"), QStringLiteral("berlin–origin"), QStringLiteral("origin")}));
    variants->setCurrentRow(1);
    QCOMPARE(topology->pathItems(), (QStringList{QStringLiteral("berlin"), QStringLiteral("berlin–pop-fra"), QStringLiteral("origin"),
                                                 QStringLiteral("pop-fra"), QStringLiteral("pop-fra–origin")}));
    // Drawn so: the PoP central does not use is fainter than the origin both use.
    variants->setCurrentRow(0);
    QTest::qWait(20);
    const QImage central = topology->grab().toImage();
    const auto strongest = [&](const QString &node) {
        const QRect r = topology->mapFromScene(topology->nodeItem(node)->sceneBoundingRect()).boundingRect();
        double most = 0;
        const QColor canvas = themeColors(topology->palette()).canvas;
        for (int y = std::max(0, r.top()); y <= std::min(central.height() - 1, r.bottom()); ++y)
            for (int x = std::max(0, r.left()); x <= std::min(central.width() - 1, r.right()); ++x)
                most = std::max(most, contrast(central.pixelColor(x, y), canvas));
        return most;
    };
    QVERIFY2(strongest(QStringLiteral("pop-fra")) < 0.75 * strongest(QStringLiteral("origin")),
             qPrintable(QStringLiteral("%1 vs %2").arg(strongest(QStringLiteral("pop-fra"))).arg(strongest(QStringLiteral("origin")))));
}

void TestWorkbench::uncheckedBoxesReadableInDark()
{
    applyColorScheme(*qApp, ColorScheme::Dark);
    QTRY_VERIFY(isDarkPalette(m_window->palette()));
    const QString path = writeFile(m_dir.filePath(QStringLiteral("dark.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    m_window->variantList()->setChecked(QStringLiteral("edge"), false);
    QListWidget *list = m_window->variantList()->list();
    QVERIFY(isDarkPalette(list->palette()));
    QTest::qWait(20);
    const QImage image = list->viewport()->grab().toImage();
    QStyleOptionViewItem option;
    option.initFrom(list->viewport());
    option.rect = list->visualItemRect(list->item(1));
    option.features = QStyleOptionViewItem::HasCheckIndicator | QStyleOptionViewItem::HasDisplay;
    option.checkState = Qt::Unchecked;
    option.text = list->item(1)->text();
    const QRect box = list->style()->subElementRect(QStyle::SE_ItemViewItemCheckIndicator, &option, list).adjusted(-1, -1, 1, 1);
    QVERIFY(!box.isEmpty());
    const QColor background = image.pixelColor(std::min(image.width(), option.rect.right()) - 3, option.rect.center().y());
    QVERIFY(background.isValid());
    double most = 0;
    for (int y = box.top(); y <= box.bottom(); ++y)
        for (int x = box.left(); x <= box.right(); ++x)
            most = std::max(most, contrast(image.pixelColor(x, y), background));
    // WCAG 2.1 asks 3:1 of the parts of a control a user must see.
    QVERIFY2(most >= 3.0, qPrintable(QStringLiteral("the unchecked box's outline has contrast %1:1").arg(most, 0, 'f', 2)));
}

void TestWorkbench::topologyKeptForNonStructuralProblems()
{
    // 60,000 browsers are more descriptors than this process may hold: a problem of the
    // machine, not of the scenario's structure.
    const QString path = writeFile(m_dir.filePath(QStringLiteral("many.yaml")), scenarioText(QStringLiteral("2s"), 60000));
    QVERIFY(m_window->openFile(path, true));
    QVERIFY(!m_window->diagnostics().isEmpty());
    QVERIFY2(m_window->diagnostics().first().message.contains(QStringLiteral("descriptor")),
             qPrintable(m_window->diagnostics().first().message));
    QCOMPARE(m_window->topologyView()->model().nodes.size(), 3);
    QCOMPARE(m_window->topologyView()->model().links.size(), 3);
    QVERIFY(m_window->topologyView()->nodeItem(QStringLiteral("pop-fra")));
    QVERIFY(!m_window->action(QStringLiteral("actionRun"))->isEnabled());
    // A structural problem (a link to a node that does not exist) has no topology to draw.
    QByteArray broken = scenarioText(QStringLiteral("2s"), 3);
    broken.replace("between: [pop-fra, origin]", "between: [pop-frx, origin]");
    QVERIFY(m_window->openFile(writeFile(m_dir.filePath(QStringLiteral("broken.yaml")), broken), true));
    QVERIFY(!m_window->diagnostics().isEmpty());
    QCOMPARE(m_window->topologyView()->model().nodes.size(), 0);
}

void TestWorkbench::warmupIsShaded()
{
    metrics::RunResult r = twoAudienceResult();
    for (metrics::VariantResult &v : r.variants)
        v.resolved.insert(QStringLiteral("warmup"), QStringLiteral("1s")); // of 3 s
    m_window->comparisonView()->setResult(r);
    m_window->views()->setCurrentWidget(m_window->comparisonView());
    ChartGrid *grid = m_window->comparisonView()->charts();
    QTRY_VERIFY(grid->refreshCount() > 0);
    QTest::qWait(50);
    for (charts::ChartKind kind : {charts::ChartKind::LatencyOverTime, charts::ChartKind::ConnectionsOverTime}) {
        QChartView *view = grid->view(kind);
        QChart *chart = view->chart();
        const QImage image = view->grab().toImage();
        const QRectF plot = chart->plotArea();
        const auto column = [&](double seconds) {
            QAbstractSeries *any = chart->series().constFirst();
            const QPointF at = chart->mapToPosition(QPointF(seconds, 0), any);
            return view->mapFromScene(chart->mapToScene(at)).x();
        };
        const int y0 = view->mapFromScene(chart->mapToScene(plot.topLeft())).y() + 2;
        const int y1 = view->mapFromScene(chart->mapToScene(plot.bottomLeft())).y() - 2;
        const QColor inside = commonColour(image, column(0.5), y0, y1);
        const QColor justAfter = commonColour(image, column(1.15), y0, y1);
        const QColor later = commonColour(image, column(2.5), y0, y1);
        QVERIFY2(inside != later, qPrintable(chartFileStem(kind)));
        QVERIFY2(inside.lightness() < later.lightness(), qPrintable(chartFileStem(kind))); // light palette: shaded darker
        QCOMPARE(justAfter, later); // the shade ends at the 1 s warm-up
    }
}

void TestWorkbench::darkPaletteExport()
{
    applyColorScheme(*qApp, ColorScheme::Dark);
    QTRY_VERIFY(isDarkPalette(m_window->palette())); // the change reaches the window through its event queue
    const QString path = writeFile(m_dir.filePath(QStringLiteral("export-dark.yaml")), scenarioText(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    emit m_window->runController()->finished(twoAudienceResult());
    const QString dir = m_dir.filePath(QStringLiteral("export-dark"));
    QString error;
    const QStringList written = m_window->exportTo(dir, &error);
    QVERIFY2(!written.isEmpty(), qPrintable(error));
    for (const QString &stem : {QStringLiteral("latency-cdf"), QStringLiteral("latency-over-time")}) {
        const QImage png(QDir(dir).filePath(stem + QStringLiteral(".png")));
        QVERIFY2(!png.isNull(), qPrintable(stem));
        QVERIFY2(png.pixelColor(4, 4).lightness() < 80, qPrintable(stem)); // a dark canvas, as in the app
    }
    const QString html = QString::fromUtf8(readFile(QDir(dir).filePath(QStringLiteral("report.html"))));
    static const QRegularExpression body(QStringLiteral("body\\{background:(#[0-9a-fA-F]{3,6})"));
    QRegularExpressionMatchIterator it = body.globalMatch(html);
    QString last;
    while (it.hasNext())
        last = it.next().captured(1);
    QVERIFY2(!last.isEmpty(), "the report sets no page background");
    QVERIFY2(QColor(last).lightness() < 80, qPrintable(last)); // the last rule wins: the dark one
    // The topology picture in the report is drawn in the same palette.
    static const QRegularExpression topology(QStringLiteral("alt=\"Topology\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\""));
    const QRegularExpressionMatch picture = topology.match(html);
    QVERIFY(picture.hasMatch());
    const QImage drawn = QImage::fromData(QByteArray::fromBase64(picture.captured(1).toLatin1()), "PNG");
    QVERIFY(!drawn.isNull());
    QVERIFY(drawn.pixelColor(2, 2).lightness() < 80);
}

void TestWorkbench::runsInTheSameSecondKeepTheirNames()
{
    const QString folder = m_dir.filePath(QStringLiteral("same-second/runs"));
    metrics::RunResult r = twoAudienceResult(); // central and edge
    r.startedAt = QStringLiteral("2026-12-01T11:00:00Z");
    const QString first = runs::storeRun(r, folder);
    const QString second = runs::storeRun(r, folder);
    QVERIFY(!first.isEmpty() && !second.isEmpty() && first != second);
    // A folder named the earlier way, the number at the end, and a variant whose own name ends in -2.
    const QString legacy = folder + QStringLiteral("/2026-12-01_11-00-00_central+edge-3");
    QVERIFY(QDir().mkpath(legacy));
    QVERIFY(QFile::copy(first, legacy + QStringLiteral("/results.json")));
    metrics::RunResult dashed = r;
    dashed.variants.erase(dashed.variants.begin());
    dashed.variants[0].name = QStringLiteral("edge-2");
    dashed.startedAt = QStringLiteral("2026-12-01T11:01:00Z");
    QVERIFY(!runs::storeRun(dashed, folder).isEmpty());

    const QList<runs::StoredRun> stored = runs::storedRuns(folder);
    QCOMPARE(stored.size(), 4);
    const QStringList both{QStringLiteral("central"), QStringLiteral("edge")};
    QCOMPARE(stored[0].file, first); // oldest first
    QCOMPARE(stored[1].file, second);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(stored[i].variants, both);
    QCOMPARE(stored[3].variants, QStringList{QStringLiteral("edge-2")});
    RunsPanel panel;
    panel.setFolder(folder);
    auto *tree = panel.findChild<QTreeWidget *>(QStringLiteral("runsTree"));
    QVERIFY(tree);
    QCOMPARE(tree->topLevelItemCount(), 4);
    for (int i = 0; i < 3; ++i)
        QCOMPARE(tree->topLevelItem(i)->text(1), QStringLiteral("central, edge"));
    QCOMPARE(tree->topLevelItem(3)->text(1), QStringLiteral("edge-2"));
}

QTEST_MAIN(TestWorkbench)
#include "tst_workbench.moc"
