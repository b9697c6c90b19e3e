// The desktop app end to end on the offscreen platform: open, validate, run, stop, export.
#include "app/charts/charts.h"
#include "app/gui/chartgrid.h"
#include "app/gui/codeeditor.h"
#include "app/gui/comparisonview.h"
#include "app/gui/diagnosticspanel.h"
#include "app/gui/mainwindow.h"
#include "app/gui/runpanel.h"
#include "app/gui/topologyview.h"
#include "app/gui/variantlist.h"
#include "core/sim/runcontroller.h"

#include <QAction>
#include <QChart>
#include <QChartView>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QGraphicsItem>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTextBlock>
#include <QTreeWidget>
#include <QXYSeries>

#include <sys/resource.h>
#include <unistd.h>

using namespace edgesse;
using namespace edgesse::gui;

static void initResources()
{
    Q_INIT_RESOURCE(edgesse);
}

namespace {

// A scenario small enough to run in a couple of seconds on a loaded machine.
QByteArray shortScenario(const QString &duration, int clients)
{
    return QStringLiteral(R"(name: GUI test
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
  - { between: [berlin, origin],  latency: 25ms, jitter: 2ms }
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

int threadCount()
{
    return int(QDir(QStringLiteral("/proc/self/task")).entryList(QDir::Dirs | QDir::NoDotAndDotDot).size());
}

int seriesPoints(QChart *chart)
{
    int points = 0;
    for (QAbstractSeries *series : chart->series())
        if (auto *xy = qobject_cast<QXYSeries *>(series))
            points += int(xy->count());
    return points;
}

} // namespace

class TestGui final : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase();
    void init();
    void cleanup();
    void opensBundledScenario();
    void injectedErrorIsMarkedAndClickMovesCursor();
    void validationIsDebounced();
    void standardShortcuts();
    void dropOpensScenario();
    void topologyLayoutIsKeptBesideScenario();
    void runsShortVariantAndChartsReceiveData();
    void stopMidRunReturnsToIdleWithNoThreadLeft();
    void failedRunShowsReasonAndAppKeepsWorking();
    void descriptorLimitFailsTheRun();
    void exportWritesEveryPromisedFile();
    void recentFilesPersist();

private:
    QString writeScenario(const QString &name, const QByteArray &text);
    QString bundledScenario() const;

    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

void TestGui::initTestCase()
{
    QVERIFY(m_dir.isValid());
    initResources();
    QCoreApplication::setOrganizationName(QStringLiteral("EdgeSSE-tests"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_gui"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_dir.filePath(QStringLiteral("settings")));
    QSettings().clear();
}

void TestGui::init()
{
    m_window = std::make_unique<MainWindow>();
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestGui::cleanup()
{
    if (m_window) {
        m_window->stopRun();
        QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 10000);
        m_window->editor()->document()->setModified(false);
        m_window->close();
        m_window.reset();
    }
}

QString TestGui::writeScenario(const QString &name, const QByteArray &text)
{
    const QString path = m_dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size())
        return {};
    return path;
}

QString TestGui::bundledScenario() const
{
    const QDir dir(QStringLiteral(EDGESSE_SOURCE_DIR "/scenarios"));
    const QStringList files = dir.entryList({QStringLiteral("*.yaml")}, QDir::Files, QDir::Name);
    return files.isEmpty() ? QString() : dir.filePath(files.first());
}

void TestGui::opensBundledScenario()
{
    const QString path = bundledScenario();
    if (path.isEmpty())
        QSKIP("no bundled scenario in scenarios/");
    QVERIFY(m_window->openFile(path, true));
    QCOMPARE(m_window->currentFile(), QFileInfo(path).absoluteFilePath());
    QVERIFY2(m_window->diagnostics().isEmpty(),
             qPrintable(m_window->diagnostics().isEmpty() ? QString() : m_window->diagnostics().first().toString()));
    QVERIFY(m_window->scenario().has_value());
    QCOMPARE(m_window->variantList()->allVariants().size(), m_window->scenario()->variants.size());
    QCOMPARE(m_window->variantList()->checkedVariants(), m_window->variantList()->allVariants());
    const auto &variant = m_window->scenario()->variants.first();
    QCOMPARE(m_window->topologyView()->model().nodes.size(), variant.nodes.size() + variant.clients.size());
    for (const auto &node : variant.nodes)
        QVERIFY2(m_window->topologyView()->nodeItem(node.name), qPrintable(node.name));
    // Laid out, not piled up: every node has a place of its own.
    const auto positions = m_window->topologyView()->nodePositions();
    QSet<QString> distinct;
    for (const QPointF &p : positions)
        distinct.insert(QStringLiteral("%1,%2").arg(p.x()).arg(p.y()));
    QCOMPARE(distinct.size(), positions.size());
    QCOMPARE(m_window->diagnosticsPanel()->count(), 0);
    QVERIFY(m_window->windowTitle().contains(QFileInfo(path).fileName()));
}

void TestGui::injectedErrorIsMarkedAndClickMovesCursor()
{
    const QString path = writeScenario(QStringLiteral("error.yaml"), shortScenario(QStringLiteral("2s"), 4));
    QVERIFY(m_window->openFile(path, true));
    QVERIFY(m_window->diagnostics().isEmpty());

    // Break the berlin → pop-fra link's latency on its line.
    CodeEditor *editor = m_window->editor();
    const QTextBlock block = editor->document()->find(QStringLiteral("latency: 5ms")).block();
    QVERIFY(block.isValid());
    const int line = block.blockNumber() + 1;
    QTextCursor cursor(block);
    const int at = int(block.text().indexOf(QStringLiteral("5ms")));
    cursor.setPosition(block.position() + at);
    cursor.setPosition(block.position() + at + 3, QTextCursor::KeepAnchor);
    cursor.insertText(QStringLiteral("5 parsecs"));
    editor->moveCursor(QTextCursor::Start);

    QTRY_VERIFY_WITH_TIMEOUT(m_window->diagnosticsPanel()->count() > 0, 5000);
    const auto diagnostic = m_window->diagnostics().first();
    QCOMPARE(diagnostic.line, line);
    QVERIFY(diagnostic.message.contains(QStringLiteral("parsecs")) || diagnostic.message.contains(QStringLiteral("duration")));
    QVERIFY(!editor->marks().isEmpty());
    QCOMPARE(editor->marks().first().line, line);
    QVERIFY(!m_window->action(QStringLiteral("actionRun"))->isEnabled());
    QCOMPARE(editor->cursorLine(), 1);

    QTreeWidget *tree = m_window->diagnosticsPanel()->tree();
    QTreeWidgetItem *item = tree->topLevelItem(0);
    QVERIFY(item->text(1).size() > 5);
    const QRect rect = tree->visualItemRect(item);
    QTest::mouseClick(tree->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(editor->cursorLine(), diagnostic.line);
    QCOMPARE(editor->cursorColumn(), std::max(1, diagnostic.column));
    QVERIFY(editor->hasFocus());

    // Fixing it clears the diagnostic again.
    editor->undo();
    QTRY_COMPARE_WITH_TIMEOUT(m_window->diagnosticsPanel()->count(), 0, 5000);
    QVERIFY(editor->marks().isEmpty());
    QVERIFY(m_window->action(QStringLiteral("actionRun"))->isEnabled());
}

void TestGui::validationIsDebounced()
{
    QSignalSpy validated(m_window.get(), &MainWindow::validated);
    QTest::keyClicks(m_window->editor(), QStringLiteral("oops: [unclosed"));
    QCOMPARE(validated.count(), 0); // not on every key press
    QVERIFY(validated.wait(5000));
    QCOMPARE(validated.count(), 1); // once, after the typing stopped
    QCOMPARE(validated.first().first().toBool(), false);
}

void TestGui::standardShortcuts()
{
    const auto has = [this](const char *action, const QKeySequence &key) {
        return m_window->action(QLatin1String(action))->shortcuts().contains(key);
    };
    QVERIFY(has("actionRun", QKeySequence(Qt::CTRL | Qt::Key_R)));
    QVERIFY(has("actionRun", QKeySequence(Qt::Key_F5)));
    QVERIFY(has("actionStop", QKeySequence(Qt::SHIFT | Qt::Key_F5)));
    QVERIFY(has("actionStop", QKeySequence(Qt::Key_Escape)));
    QVERIFY(has("actionOpen", QKeySequence(QKeySequence::Open)));
    QVERIFY(has("actionSave", QKeySequence(QKeySequence::Save)));
    QVERIFY(has("actionNew", QKeySequence(QKeySequence::New)));
    QVERIFY(has("actionQuit", QKeySequence(Qt::CTRL | Qt::Key_Q)));
    QVERIFY(!m_window->action(QStringLiteral("actionStop"))->isEnabled());
    QVERIFY(!m_window->action(QStringLiteral("actionExport"))->isEnabled());
}

void TestGui::dropOpensScenario()
{
    const QString path = writeScenario(QStringLiteral("dropped.yaml"), shortScenario(QStringLiteral("2s"), 3));
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(path)});
    const QPoint at = m_window->rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, {});
    QCoreApplication::sendEvent(m_window.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, {});
    QCoreApplication::sendEvent(m_window.get(), &drop);
    QTRY_COMPARE(m_window->currentFile(), QFileInfo(path).absoluteFilePath());

    QMimeData other;
    other.setUrls({QUrl::fromLocalFile(m_dir.filePath(QStringLiteral("notes.txt")))});
    QDragEnterEvent refused(at, Qt::CopyAction, &other, Qt::LeftButton, {});
    refused.setAccepted(false);
    QCoreApplication::sendEvent(m_window.get(), &refused);
    QVERIFY(!refused.isAccepted());
}

void TestGui::topologyLayoutIsKeptBesideScenario()
{
    const QString path = writeScenario(QStringLiteral("layout.yaml"), shortScenario(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(path, true));
    TopologyView *view = m_window->topologyView();
    m_window->views()->setCurrentIndex(0);
    QGraphicsItem *node = view->nodeItem(QStringLiteral("pop-fra"));
    QVERIFY(node);
    const QPointF before = node->pos();
    QSignalSpy edited(view, &TopologyView::layoutEdited);
    // Drag the node with the mouse, by its body.
    const QPoint from = view->mapFromScene(node->pos());
    const QPoint to = from + QPoint(60, 40);
    QCOMPARE(view->itemAt(from), node);
    QTest::mousePress(view->viewport(), Qt::LeftButton, {}, from);
    QTest::mouseMove(view->viewport(), from + QPoint(30, 20));
    QTest::mouseMove(view->viewport(), to);
    QTest::mouseRelease(view->viewport(), Qt::LeftButton, {}, to);
    QCOMPARE(edited.count(), 1);
    QVERIFY(node->pos() != before);
    const QPointF dragged = node->pos();
    const QString layoutPath = TopologyView::layoutPathFor(path);
    QVERIFY(QFile::exists(layoutPath));

    view->zoomIn();
    QVERIFY(view->zoom() > 0);

    m_window->newScenario();
    QVERIFY(m_window->openFile(path, true));
    const auto positions = m_window->topologyView()->nodePositions();
    QCOMPARE(positions.value(QStringLiteral("pop-fra")), QPointF(std::round(dragged.x()), std::round(dragged.y())));
}

void TestGui::runsShortVariantAndChartsReceiveData()
{
    const QString path = writeScenario(QStringLiteral("run.yaml"), shortScenario(QStringLiteral("2s"), 5));
    QVERIFY(m_window->openFile(path, true));
    m_window->variantList()->setChecked(QStringLiteral("central"), false);
    QCOMPARE(m_window->variantList()->checkedVariants(), QStringList{QStringLiteral("edge")});

    QSignalSpy ended(m_window.get(), &MainWindow::runEnded);
    QVERIFY(m_window->startRun());
    QVERIFY(m_window->isRunning());
    QVERIFY(m_window->action(QStringLiteral("actionStop"))->isEnabled());
    QVERIFY(!m_window->action(QStringLiteral("actionRun"))->isEnabled());
    // Live charts get data while the variant runs.
    ChartGrid *live = m_window->liveCharts();
    QTRY_VERIFY_WITH_TIMEOUT(live->refreshCount() > 0 && m_window->runPanel()->progressBar()->value() > 0, 30000);
    QVERIFY(ended.wait(60000));
    QVERIFY(!m_window->isRunning());
    QVERIFY(m_window->runPanel()->failureLabel()->text().isEmpty());

    QVERIFY(m_window->lastResult().has_value());
    const auto &result = *m_window->lastResult();
    QCOMPARE(result.variants.size(), std::size_t(1));
    QCOMPARE(result.variants.front().name, QStringLiteral("edge"));
    QVERIFY(result.variants.front().events.delivered > 0);
    QVERIFY(seriesPoints(live->view(charts::ChartKind::LatencyOverTime)->chart()) > 0);

    // The comparison view shows the summary and the charts.
    QCOMPARE(m_window->views()->currentWidget(), m_window->comparisonView());
    QTableWidget *table = m_window->comparisonView()->table();
    QCOMPARE(table->columnCount(), 1);
    QCOMPARE(table->horizontalHeaderItem(0)->text(), QStringLiteral("edge · h2")); // the variant and what its browsers speak
    QCOMPARE(table->rowCount(), runs::totalFigures().size());
    QCOMPARE(table->item(6, 0)->text().remove(QLocale().groupSeparator()),
             QString::number(result.variants.front().events.delivered));
    // The charts are drawn one an event-loop turn after the run's end, not in it.
    ChartGrid *grid = m_window->comparisonView()->charts();
    QVERIFY(grid->isRefreshing());
    QTRY_VERIFY(!grid->isRefreshing());
    QVERIFY(seriesPoints(grid->view(charts::ChartKind::LatencyCdf)->chart()) > 0);
    QVERIFY(m_window->action(QStringLiteral("actionExport"))->isEnabled());
}

void TestGui::stopMidRunReturnsToIdleWithNoThreadLeft()
{
    const QString path = writeScenario(QStringLiteral("long.yaml"), shortScenario(QStringLiteral("60s"), 20));
    QVERIFY(m_window->openFile(path, true));
    const int threadsBefore = threadCount();
    QSignalSpy ended(m_window.get(), &MainWindow::runEnded);
    QVERIFY(m_window->startRun());
    QTRY_VERIFY_WITH_TIMEOUT(m_window->runPanel()->progressBar()->value() > 0, 30000);
    QElapsedTimer stopping;
    stopping.start();
    QTest::keyClick(m_window.get(), Qt::Key_Escape);
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 5000);
    qInfo("stopped in %lld ms", stopping.elapsed());
    QTRY_COMPARE(ended.count(), 1);
    QVERIFY(m_window->action(QStringLiteral("actionRun"))->isEnabled());
    QVERIFY(!m_window->action(QStringLiteral("actionStop"))->isEnabled());
    QVERIFY(m_window->runPanel()->statusLabel()->text().contains(QStringLiteral("Stopped")));
    QTRY_COMPARE_WITH_TIMEOUT(threadCount(), threadsBefore, 5000);
}

void TestGui::failedRunShowsReasonAndAppKeepsWorking()
{
    // The window shows the reason the engine gives for a failed run and stays usable.
    const QString path = writeScenario(QStringLiteral("fails.yaml"), shortScenario(QStringLiteral("1s"), 3));
    QVERIFY(m_window->openFile(path, true));
    m_window->variantList()->setChecked(QStringLiteral("central"), false);
    const QString reason = QStringLiteral("variant edge: PoP pop-fra could not listen: address in use");
    QSignalSpy ended(m_window.get(), &MainWindow::runEnded);
    emit m_window->runController()->failed(reason);
    QCOMPARE(ended.count(), 1);
    QLabel *failure = m_window->runPanel()->failureLabel();
    QVERIFY(failure->isVisible());
    QVERIFY(failure->text().contains(reason));
    QVERIFY(m_window->action(QStringLiteral("actionRun"))->isEnabled());

    // Running again clears the banner, and the run completes.
    QVERIFY(m_window->startRun());
    QVERIFY(!failure->isVisible());
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 60000);
    QVERIFY2(m_window->lastResult().has_value(), qPrintable(failure->text()));
    QVERIFY(!failure->isVisible());
}

void TestGui::descriptorLimitFailsTheRun()
{
    // A real failure: the scenario validates, then the process's hard descriptor limit drops
    // below what the run needs (an app started under a lower `ulimit -Hn`); the engine
    // refuses to start and the window says why and how to fix it.
    rlimit saved{};
    QCOMPARE(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rlimit probe = saved;
    probe.rlim_max = saved.rlim_max - 1;
    probe.rlim_cur = std::min(probe.rlim_cur, probe.rlim_max);
    QCOMPARE(setrlimit(RLIMIT_NOFILE, &probe), 0);
    if (setrlimit(RLIMIT_NOFILE, &saved) != 0)
        QSKIP("this process cannot raise its hard descriptor limit back (needs CAP_SYS_RESOURCE)");

    const QString path = writeScenario(QStringLiteral("limits.yaml"), shortScenario(QStringLiteral("2s"), 200));
    QVERIFY(m_window->openFile(path, true));
    QVERIFY(m_window->diagnostics().isEmpty());
    rlimit lowered = saved;
    lowered.rlim_cur = 256;
    lowered.rlim_max = 256;
    QCOMPARE(setrlimit(RLIMIT_NOFILE, &lowered), 0);
    const bool started = m_window->startRun();
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 30000);
    QCOMPARE(setrlimit(RLIMIT_NOFILE, &saved), 0);
    QVERIFY(started);
    QLabel *failure = m_window->runPanel()->failureLabel();
    QTRY_VERIFY2(failure->isVisible(), qPrintable(m_window->runPanel()->statusLabel()->text()));
    QVERIFY2(failure->text().contains(QStringLiteral("descriptors")), qPrintable(failure->text()));
    QVERIFY(!m_window->lastResult().has_value());
    QVERIFY(m_window->action(QStringLiteral("actionRun"))->isEnabled());
}

void TestGui::exportWritesEveryPromisedFile()
{
    const QString path = writeScenario(QStringLiteral("export.yaml"), shortScenario(QStringLiteral("1s"), 4));
    QVERIFY(m_window->openFile(path, true));
    QString error;
    QVERIFY(m_window->exportTo(m_dir.filePath(QStringLiteral("nothing")), &error).isEmpty());
    QVERIFY(error.contains(QStringLiteral("run")));

    QVERIFY(m_window->startRun());
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 90000);
    QVERIFY(m_window->lastResult().has_value());

    const QString out = m_dir.filePath(QStringLiteral("export"));
    const QStringList written = m_window->exportTo(out, &error);
    QVERIFY2(!written.isEmpty(), qPrintable(error));
    const QDir dir(out);
    QStringList expected{QStringLiteral("results.json"), QStringLiteral("summary.csv"), QStringLiteral("report.html")};
    for (const auto kind : charts::allChartKinds())
        for (const char *suffix : {".png", ".svg", ".pdf"})
            expected << charts::chartFileStem(kind) + QLatin1String(suffix);
    for (const QString &file : expected) {
        QVERIFY2(dir.exists(file), qPrintable(file));
        QVERIFY2(QFileInfo(dir.filePath(file)).size() > 100, qPrintable(file));
    }
    const QImage png(dir.filePath(charts::chartFileStem(charts::ChartKind::LatencyCdf) + QStringLiteral(".png")));
    QCOMPARE(png.width(), 2 * charts::ExportOptions().size.width());
    QFile pdf(dir.filePath(charts::chartFileStem(charts::ChartKind::LatencyCdf) + QStringLiteral(".pdf")));
    QVERIFY(pdf.open(QIODevice::ReadOnly));
    QVERIFY(pdf.read(5).startsWith("%PDF"));
    QFile report(dir.filePath(QStringLiteral("report.html")));
    QVERIFY(report.open(QIODevice::ReadOnly));
    const QByteArray html = report.readAll();
    QCOMPARE(html.count("data:image/png;base64,"), int(charts::allChartKinds().size()) + 1); // and the topology
    QVERIFY(html.contains("<h2>Topology</h2>"));
    QVERIFY(html.contains("GUI test"));
    QVERIFY(html.contains("<th>central (baseline)</th>"));
    QVERIFY(html.contains("<th>edge</th>"));
    QVERIFY(html.contains("<p class=\"verdict\">▸ edge vs central: "));
    QVERIFY(html.contains("pop-fra: { kind: pop"));
}

void TestGui::recentFilesPersist()
{
    const QString first = writeScenario(QStringLiteral("first.yaml"), shortScenario(QStringLiteral("2s"), 2));
    const QString second = writeScenario(QStringLiteral("second.yaml"), shortScenario(QStringLiteral("2s"), 3));
    QVERIFY(m_window->openFile(first, true));
    QVERIFY(m_window->openFile(second, true));
    QVERIFY(!m_window->openFile(m_dir.filePath(QStringLiteral("missing.yaml")), true));
    // The window layout comes back too: size and which docks are shown.
    m_window->resize(1111, 777);
    auto *problems = m_window->findChild<QDockWidget *>(QStringLiteral("problemsDock"));
    QVERIFY(problems);
    problems->hide();
    m_window->close();
    m_window = std::make_unique<MainWindow>();
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    QCOMPARE(m_window->size(), QSize(1111, 777));
    QVERIFY(m_window->findChild<QDockWidget *>(QStringLiteral("problemsDock"))->isHidden());
    const QStringList recent = m_window->recentFiles();
    QVERIFY(recent.size() >= 2);
    QCOMPARE(recent.at(0), QFileInfo(second).absoluteFilePath());
    QCOMPARE(recent.at(1), QFileInfo(first).absoluteFilePath());
    QVERIFY(!recent.contains(m_dir.filePath(QStringLiteral("missing.yaml"))));
    auto *menu = m_window->findChild<QMenu *>(QStringLiteral("recentMenu"));
    QVERIFY(menu);
    emit menu->aboutToShow();
    QVERIFY(menu->actions().first()->text().contains(QStringLiteral("second.yaml")));

    // The last scenario comes back with the window.
    m_window->restoreLastScenario();
    QCOMPARE(m_window->currentFile(), QFileInfo(second).absoluteFilePath());
}

QTEST_MAIN(TestGui)
#include "tst_gui.moc"
