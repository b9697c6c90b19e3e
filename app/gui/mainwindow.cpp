#include "app/gui/mainwindow.h"

#include "app/gui/chartgrid.h"
#include "app/gui/codeeditor.h"
#include "app/gui/comparisonview.h"
#include "app/gui/diagnosticspanel.h"
#include "app/gui/findbar.h"
#include "app/gui/livedata.h"
#include "app/gui/resultexporter.h"
#include "app/gui/runpanel.h"
#include "app/gui/runspanel.h"
#include "app/gui/stalltrace.h"
#include "app/gui/schemacompletion.h"
#include "app/gui/scenariobridge.h"
#include "app/gui/theme.h"
#include "app/gui/topologyview.h"
#include "app/gui/variantlist.h"
#include "app/gui/yamlhighlighter.h"
#include "app/runs/comparison.h"
#include "app/runs/runstore.h"
#include "core/scenario/units.h"
#include "core/sim/runcontroller.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QChartView>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QStandardPaths>
#include <QStringDecoder>
#include <QLabel>
#include <QListWidget>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QRegularExpression>
#include <QTextBlock>
#include <QSaveFile>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <memory>

namespace edgesse::gui {

namespace {

const QString kRecentFilesKey = QStringLiteral("recentFiles");
const QString kLastScenarioKey = QStringLiteral("lastScenario");
const QString kGeometryKey = QStringLiteral("window/geometry");
const QString kStateKey = QStringLiteral("window/state");
const QString kSplitterKey = QStringLiteral("window/splitter");
const QString kColorSchemeKey = QStringLiteral("colorScheme");

QIcon icon(const char *name)
{
    return QIcon(QStringLiteral(":/edgesse/icons/%1.svg").arg(QLatin1String(name)));
}

bool isScenarioFile(const QUrl &url)
{
    if (!url.isLocalFile())
        return false;
    const QString suffix = QFileInfo(url.toLocalFile()).suffix().toLower();
    return suffix == QLatin1String("yaml") || suffix == QLatin1String("yml") || suffix == QLatin1String("json");
}

// Why `bytes` cannot be edited as a scenario (binary, or not UTF-8); empty when they can.
QString whyNotText(const QByteArray &bytes)
{
    if (bytes.contains('\0'))
        return QObject::tr("it holds binary data (NUL bytes), not YAML text");
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString text = decoder.decode(bytes);
    if (decoder.hasError())
        return QObject::tr("it is not UTF-8 text; convert it to UTF-8 (for example with iconv) and open it again");
    return {};
}

QString problemsText(qsizetype n)
{
    return n == 1 ? QObject::tr("1 problem") : QObject::tr("%1 problems").arg(n);
}

QString variantsText(qsizetype n)
{
    return n == 1 ? QObject::tr("1 variant") : QObject::tr("%1 variants").arg(n);
}

QString filesText(qsizetype n)
{
    return n == 1 ? QObject::tr("1 file") : QObject::tr("%1 files").arg(n);
}

// The line (from 1) where `name` is defined: a key under nodes, or a client group's name;
// 0 when none.
int definitionLine(const QString &text, const QString &name)
{
    const QString quoted = QRegularExpression::escape(name);
    const QRegularExpression node(QStringLiteral("^\\s+[\"']?%1[\"']?\\s*:").arg(quoted));
    const QRegularExpression group(QStringLiteral("\\bname:\\s*[\"']?%1[\"']?\\s*[,}\\n]").arg(quoted));
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (qsizetype i = 0; i < lines.size(); ++i)
        if (node.match(lines.at(i)).hasMatch() || group.match(lines.at(i) + QLatin1Char('\n')).hasMatch())
            return int(i + 1);
    return 0;
}

// The node or client group a line defines; empty when it defines none.
QString definedOn(const QString &line, const QStringList &names)
{
    for (const QString &name : names)
        if (definitionLine(line, name) == 1)
            return name;
    return {};
}

// The README's section for what has the focus (F1).
QUrl readmeSection(const QString &anchor)
{
    const QStringList candidates{QCoreApplication::applicationDirPath() + QStringLiteral("/../share/doc/edgesse/README.md"),
                                 QStringLiteral(EDGESSE_SOURCE_README)};
    for (const QString &candidate : candidates) {
        if (QFileInfo::exists(candidate)) {
            QUrl url = QUrl::fromLocalFile(QFileInfo(candidate).absoluteFilePath());
            url.setFragment(anchor);
            return url;
        }
    }
    return {};
}

// What File ▸ New starts from: a small scenario that validates and runs in seconds.
const char *const kNewScenario = R"(# A new EdgeSSE scenario: one origin, one edge PoP, two audiences.
name: New scenario
question: Do the Berlin browsers get their events sooner through the edge PoP?
seed: 1
duration: 10s
warmup: 1s

nodes:
  origin:  { kind: origin, region: us-east }
  pop-fra: { kind: pop, region: eu-central }

clients:
  - { name: berlin,   count: 50, near: pop-fra, streams: 1 }
  - { name: new-york, count: 50, near: origin,  streams: 1 }

links:                       # latency is one way; RTT = 2 × latency
  - { between: [berlin, pop-fra],   latency: 8ms,  jitter: 2ms }
  - { between: [pop-fra, origin],   latency: 45ms, jitter: 3ms }
  - { between: [berlin, origin],    latency: 48ms, jitter: 4ms }
  - { between: [new-york, origin],  latency: 6ms,  jitter: 1ms }

publisher: { at: origin, rate: 10/s, payload: 256B }
sse: { heartbeat: 15s, retry: 3s }

variants:
  - { name: central, placement: central, protocol: http1 }
  - { name: edge,    placement: edge,    protocol: http2 }
)";

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_validationTimer(new QTimer(this))
    , m_controller(new sim::RunController(this))
    , m_liveTimer(new QTimer(this))
{
    m_writer.setMaxThreadCount(1); // runs written in the order they ended
    m_writer.setExpiryTimeout(0);  // no thread kept waiting between runs
    setObjectName(QStringLiteral("mainWindow"));
    setWindowIcon(QIcon(QStringLiteral(":/edgesse/icons/edgesse.svg")));
    setAcceptDrops(true);
    setDocumentMode(false);
    m_validationTimer->setSingleShot(true);
    m_validationTimer->setInterval(kValidationDelayMs);
    connect(m_validationTimer, &QTimer::timeout, this, &MainWindow::validateNow);
    m_liveTimer->setInterval(100);
    m_liveTimer->setTimerType(Qt::CoarseTimer);
    connect(m_liveTimer, &QTimer::timeout, this, &MainWindow::onLiveTick);

    // The controller's signals only record what changed; onLiveTick() draws it.
    connect(m_controller, &sim::RunController::progressChanged, this,
            [this](double fraction, const QString &variant, std::chrono::seconds eta) {
                m_fraction = fraction;
                m_runningVariant = variant;
                m_eta = eta;
                m_progressDirty = true;
            });
    connect(m_controller, &sim::RunController::variantStarted, this, [this](const QString &variant, int index, int count) {
        m_runningVariant = variant;
        m_variantIndex = index;
        m_variantCount = count;
        m_fraction = 0;
        m_progressDirty = true;
        m_topologyVariant = variant;
        showVariantTopology();
        m_topology->clearLoad();
    });
    connect(m_controller, &sim::RunController::variantFinished, this, [this](const metrics::VariantResult &) {
        m_liveCharts->setResult(liveResult());
    });
    connect(m_controller, &sim::RunController::calibrating, this, [this](const QString &variant) {
        statusBar()->showMessage(tr("%1: calibrating the time scale…").arg(variant));
    });
    connect(m_controller, &sim::RunController::timeScaleChosen, this,
            [this](const QString &variant, double scale, const QString &reason, double wallSeconds) {
                statusBar()->showMessage(tr("%1: time scale %2 (%3); about %4 s").arg(variant).arg(scale).arg(reason)
                                             .arg(wallSeconds, 0, 'f', 0));
            });
    connect(m_controller, &sim::RunController::finished, this, &MainWindow::onRunFinished);
    connect(m_controller, &sim::RunController::failed, this, [this](const QString &reason) {
        onRunEnded({});
        m_runPanel->showFailed(reason);
    });
    connect(m_controller, &sim::RunController::cancelled, this, [this] { onRunEnded(tr("Stopped.")); });

    createActions();
    createLayout();
    createMenus();
    createToolBar();
    readSettings();
    applyTheme();
    newScenario();
}

MainWindow::~MainWindow()
{
    waitForKeptRuns();
}

QAction *MainWindow::action(const QString &objectName) const
{
    return findChild<QAction *>(objectName);
}

void MainWindow::createActions()
{
    const auto make = [this](const QString &name, const QString &text, const QIcon &actionIcon,
                             const QList<QKeySequence> &shortcuts, const QString &tip) {
        auto *a = new QAction(actionIcon, text, this);
        a->setObjectName(name);
        a->setShortcuts(shortcuts);
        QString shortcutText;
        if (!shortcuts.isEmpty())
            shortcutText = QStringLiteral(" (%1)").arg(shortcuts.first().toString(QKeySequence::NativeText));
        a->setToolTip(tip + shortcutText);
        a->setStatusTip(tip);
        return a;
    };
    m_newAction = make(QStringLiteral("actionNew"), tr("&New"), icon("new"), QKeySequence::keyBindings(QKeySequence::New),
                       tr("Start a new scenario from a template"));
    m_openAction = make(QStringLiteral("actionOpen"), tr("&Open…"), icon("open"), QKeySequence::keyBindings(QKeySequence::Open),
                        tr("Open a scenario file"));
    m_saveAction = make(QStringLiteral("actionSave"), tr("&Save"), icon("save"), QKeySequence::keyBindings(QKeySequence::Save),
                        tr("Save the scenario"));
    m_saveAsAction = make(QStringLiteral("actionSaveAs"), tr("Save &As…"), QIcon(), {QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S)},
                          tr("Save the scenario under a new name"));
    m_runAction = make(QStringLiteral("actionRun"), tr("&Run"), icon("run"),
                       {QKeySequence(Qt::CTRL | Qt::Key_R), QKeySequence(Qt::Key_F5)}, tr("Run the checked variants"));
    m_stopAction = make(QStringLiteral("actionStop"), tr("S&top"), icon("stop"),
                        {QKeySequence(Qt::SHIFT | Qt::Key_F5), QKeySequence(Qt::Key_Escape)}, tr("Stop the run at once"));
    m_exportAction = make(QStringLiteral("actionExport"), tr("&Export Results…"), icon("export"),
                          {QKeySequence(Qt::CTRL | Qt::Key_E)}, tr("Export charts, data and a report of the last run"));
    // Some platforms define no Quit binding; Ctrl+Q is what Linux desktops use.
    QList<QKeySequence> quitKeys = QKeySequence::keyBindings(QKeySequence::Quit);
    if (quitKeys.isEmpty())
        quitKeys = {QKeySequence(Qt::CTRL | Qt::Key_Q)};
    m_quitAction = make(QStringLiteral("actionQuit"), tr("&Quit"), QIcon(), quitKeys, tr("Quit EdgeSSE"));
    m_aboutAction = make(QStringLiteral("actionAbout"), tr("&About EdgeSSE"), QIcon(), {}, tr("About EdgeSSE"));
    m_zoomInAction = make(QStringLiteral("actionZoomIn"), tr("Zoom &In"), icon("zoom-in"),
                          {QKeySequence(QKeySequence::ZoomIn), QKeySequence(Qt::CTRL | Qt::Key_Equal)}, tr("Zoom the topology in"));
    m_zoomOutAction = make(QStringLiteral("actionZoomOut"), tr("Zoom &Out"), icon("zoom-out"),
                           QKeySequence::keyBindings(QKeySequence::ZoomOut), tr("Zoom the topology out"));
    m_fitAction = make(QStringLiteral("actionFit"), tr("&Fit to Window"), icon("fit"), {QKeySequence(Qt::CTRL | Qt::Key_0)},
                       tr("Fit the whole topology in the view"));
    m_resetLayoutAction = make(QStringLiteral("actionResetLayout"), tr("&Reset Layout"), QIcon(), {},
                               tr("Place every node of the topology automatically again"));
    m_stopAction->setShortcutContext(Qt::WindowShortcut);

    connect(m_newAction, &QAction::triggered, this, [this] {
        if (maybeSave())
            newScenario();
    });
    connect(m_openAction, &QAction::triggered, this, &MainWindow::open);
    connect(m_saveAction, &QAction::triggered, this, &MainWindow::save);
    connect(m_saveAsAction, &QAction::triggered, this, &MainWindow::saveAs);
    connect(m_quitAction, &QAction::triggered, this, &QWidget::close);
    connect(m_runAction, &QAction::triggered, this, &MainWindow::startRun);
    connect(m_stopAction, &QAction::triggered, this, &MainWindow::stopRun);
    connect(m_exportAction, &QAction::triggered, this, &MainWindow::exportInteractively);
    connect(m_aboutAction, &QAction::triggered, this, &MainWindow::showAbout);
}

void MainWindow::createEditMenu()
{
    QMenu *edit = menuBar()->addMenu(tr("&Edit"));
    edit->setObjectName(QStringLiteral("editMenu"));
    const auto add = [this, edit](const QString &name, const QString &text, const QList<QKeySequence> &keys, auto slot) {
        QAction *a = edit->addAction(text);
        a->setObjectName(name);
        a->setShortcuts(keys);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    QAction *undo = add(QStringLiteral("actionUndo"), tr("&Undo"), QKeySequence::keyBindings(QKeySequence::Undo), [this] { m_editor->undo(); });
    QAction *redo = add(QStringLiteral("actionRedo"), tr("&Redo"), QKeySequence::keyBindings(QKeySequence::Redo), [this] { m_editor->redo(); });
    undo->setEnabled(false);
    redo->setEnabled(false);
    connect(m_editor, &QPlainTextEdit::undoAvailable, undo, &QAction::setEnabled);
    connect(m_editor, &QPlainTextEdit::redoAvailable, redo, &QAction::setEnabled);
    edit->addSeparator();
    add(QStringLiteral("actionCut"), tr("Cu&t"), QKeySequence::keyBindings(QKeySequence::Cut), [this] { m_editor->cut(); });
    add(QStringLiteral("actionCopy"), tr("&Copy"), QKeySequence::keyBindings(QKeySequence::Copy), [this] { m_editor->copy(); });
    add(QStringLiteral("actionPaste"), tr("&Paste"), QKeySequence::keyBindings(QKeySequence::Paste), [this] { m_editor->paste(); });
    add(QStringLiteral("actionSelectAll"), tr("Select &All"), QKeySequence::keyBindings(QKeySequence::SelectAll),
        [this] { m_editor->selectAll(); });
    for (QAction *a : edit->actions())
        a->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_editor->addActions(edit->actions()); // the editor's own keys, so a focused table keeps Ctrl+C
    edit->addSeparator();
    add(QStringLiteral("actionFind"), tr("&Find…"), {QKeySequence(Qt::CTRL | Qt::Key_F)}, [this] { m_findBar->showFind(false); });
    add(QStringLiteral("actionReplace"), tr("Find and &Replace…"), {QKeySequence(Qt::CTRL | Qt::Key_H)},
        [this] { m_findBar->showFind(true); });
    add(QStringLiteral("actionFindNext"), tr("Find &Next"), {QKeySequence(Qt::Key_F3)}, [this] { m_findBar->findNext(false); });
    add(QStringLiteral("actionFindPrevious"), tr("Find Pre&vious"), {QKeySequence(Qt::SHIFT | Qt::Key_F3)},
        [this] { m_findBar->findNext(true); });
    add(QStringLiteral("actionGoToLine"), tr("&Go to Line…"), {QKeySequence(Qt::CTRL | Qt::Key_L)}, [this] { goToLine(); });
    edit->addSeparator();
    add(QStringLiteral("actionNextProblem"), tr("Next &Problem"), {QKeySequence(Qt::Key_F8)}, [this] { goToProblem(false); });
    add(QStringLiteral("actionPreviousProblem"), tr("Previous Pro&blem"), {QKeySequence(Qt::SHIFT | Qt::Key_F8)},
        [this] { goToProblem(true); });
}

void MainWindow::createLayout()
{
    // Left: the editor with a header naming the file and whether it validates.
    m_editor = new CodeEditor(this);
    m_editor->setObjectName(QStringLiteral("editor"));
    m_editor->setCompletions(bundledSchemaWords());
    m_highlighter = new YamlHighlighter(m_editor->document(), isDarkPalette(palette()));
    m_editorHeader = new QLabel(this);
    m_editorHeader->setObjectName(QStringLiteral("editorHeader"));
    m_editorHeader->setContentsMargins(8, 5, 8, 5);
    // The scenario's name can be long: clipped, it must not widen the editor pane.
    m_editorHeader->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_editorHeader->setMinimumWidth(80);
    auto *editorPane = new QWidget(this);
    editorPane->setMinimumWidth(280); // a run's views never squeeze the text to nothing (1024×700)
    auto *editorLayout = new QVBoxLayout(editorPane);
    editorLayout->setContentsMargins(0, 0, 0, 0);
    editorLayout->setSpacing(0);
    editorLayout->addWidget(m_editorHeader);
    editorLayout->addWidget(m_editor, 1);
    m_findBar = new FindBar(m_editor, editorPane);
    editorLayout->addWidget(m_findBar);

    // Right: the run strip over the views.
    m_runPanel = new RunPanel(this);

    m_topology = new TopologyView(this);
    auto *topologyPane = new QWidget(this);
    auto *topologyTools = new QToolBar(topologyPane);
    topologyTools->setIconSize(QSize(16, 16));
    topologyTools->addAction(m_zoomInAction);
    topologyTools->addAction(m_zoomOutAction);
    topologyTools->addAction(m_fitAction);
    topologyTools->addAction(m_resetLayoutAction);
    auto *hint = new QLabel(tr("  Drag nodes to arrange them · drag the background to pan · Ctrl+wheel zooms"), topologyTools);
    hint->setEnabled(false);
    topologyTools->addWidget(hint);
    auto *topologyLayout = new QVBoxLayout(topologyPane);
    topologyLayout->setContentsMargins(0, 0, 0, 0);
    topologyLayout->setSpacing(0);
    topologyLayout->addWidget(topologyTools);
    topologyLayout->addWidget(m_topology, 1);

    m_views = new QTabWidget(this);
    m_views->setObjectName(QStringLiteral("views"));
    m_views->setDocumentMode(true);
    m_views->addTab(topologyPane, tr("Topology"));

    auto *livePane = new QWidget(this);
    m_liveFigures = new QLabel(tr("Nothing running. Press Run (Ctrl+R) to watch delivery live."), livePane);
    m_liveFigures->setObjectName(QStringLiteral("liveFigures"));
    m_liveFigures->setContentsMargins(10, 6, 10, 0);
    m_liveFigures->setTextFormat(Qt::RichText);
    m_liveCharts = new ChartGrid({charts::ChartKind::LatencyOverTime, charts::ChartKind::LatencyCdf,
                                  charts::ChartKind::ConnectionsOverTime, charts::ChartKind::LatencyPercentiles},
                                 2, livePane);
    m_liveCharts->setObjectName(QStringLiteral("liveCharts"));
    auto *liveLayout = new QVBoxLayout(livePane);
    liveLayout->setContentsMargins(0, 0, 0, 0);
    liveLayout->setSpacing(0);
    liveLayout->addWidget(m_liveFigures);
    liveLayout->addWidget(m_liveCharts, 1);
    m_views->addTab(livePane, tr("Live"));

    m_comparison = new ComparisonView(this);
    m_views->addTab(m_comparison, tr("Comparison"));

    auto *rightPane = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(rightPane);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->setSpacing(0);
    rightLayout->addWidget(m_runPanel);
    rightLayout->addWidget(m_views, 1);

    m_splitter = new QSplitter(Qt::Horizontal, this);
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_splitter->addWidget(editorPane);
    m_splitter->addWidget(rightPane);
    m_splitter->setStretchFactor(0, 9);
    m_splitter->setStretchFactor(1, 16);
    m_splitter->setChildrenCollapsible(false);
    setCentralWidget(m_splitter);

    // Docks: variants at the left, problems at the bottom (positions kept in QSettings).
    m_variants = new VariantList(this);
    auto *variantsDock = new QDockWidget(tr("Variants"), this);
    variantsDock->setObjectName(QStringLiteral("variantsDock"));
    variantsDock->setWidget(m_variants);
    m_variants->setMinimumWidth(220);
    addDockWidget(Qt::LeftDockWidgetArea, variantsDock);

    m_runs = new RunsPanel(this);
    auto *runsDock = new QDockWidget(tr("Runs"), this);
    runsDock->setObjectName(QStringLiteral("runsDock"));
    runsDock->setWidget(m_runs);
    addDockWidget(Qt::LeftDockWidgetArea, runsDock);
    connect(m_runs, &RunsPanel::checkedRunsChanged, this, &MainWindow::compareCheckedRuns);

    m_diagnosticsPanel = new DiagnosticsPanel(this);
    auto *problemsDock = new QDockWidget(tr("Problems"), this);
    problemsDock->setObjectName(QStringLiteral("problemsDock"));
    problemsDock->setWidget(m_diagnosticsPanel);
    addDockWidget(Qt::BottomDockWidgetArea, problemsDock);
    resizeDocks({variantsDock}, {250}, Qt::Horizontal);
    resizeDocks({problemsDock}, {150}, Qt::Vertical);

    m_cursorLabel = new QLabel(this);
    m_validityLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_validityLabel);
    statusBar()->addPermanentWidget(m_cursorLabel);

    connect(m_editor, &QPlainTextEdit::textChanged, this, &MainWindow::onTextEdited);
    connect(m_editor, &QPlainTextEdit::cursorPositionChanged, this, &MainWindow::updateCursorPosition);
    connect(m_editor->document(), &QTextDocument::modificationChanged, this, &MainWindow::updateTitle);
    connect(m_editor, &CodeEditor::fileDropped, this, [this](const QString &path) {
        if (maybeSave())
            openFile(path);
    });
    connect(m_diagnosticsPanel, &DiagnosticsPanel::diagnosticActivated, m_editor, &CodeEditor::goTo);
    connect(m_diagnosticsPanel, &DiagnosticsPanel::fixRequested, this,
            [this](int line, int column, const QString &wrong, const QString &replacement) {
                if (!m_editor->replaceAt(line, column, wrong, replacement))
                    statusBar()->showMessage(tr("\"%1\" is no longer at line %2").arg(wrong).arg(line), 6000);
                validateNow();
            });
    connect(m_variants, &VariantList::selectionChanged, this, &MainWindow::updateActions);
    connect(m_variants->list(), &QListWidget::currentRowChanged, this, [this](int row) {
        if (row >= 0)
            m_topologyVariant = m_variants->allVariants().value(row);
        showVariantTopology();
    });
    connect(m_topology, &TopologyView::layoutEdited, this, &MainWindow::saveLayoutBesideScenario);
    // Selection linked both ways: a node chosen in the topology shows its definition; the
    // cursor on a definition selects its node.
    const auto showDefinition = [this](const QString &name, bool focus) {
        if (const int line = definitionLine(m_editor->toPlainText(), name); line > 0) {
            const QSignalBlocker blocker(m_editor);
            m_editor->goTo(line, 1);
            if (!focus)
                m_topology->setFocus();
            updateCursorPosition();
        }
    };
    connect(m_topology, &TopologyView::nodeSelected, this, [showDefinition](const QString &name) { showDefinition(name, false); });
    connect(m_topology, &TopologyView::nodeActivated, this, [showDefinition](const QString &name) { showDefinition(name, true); });
    connect(m_topology, &TopologyView::resetLayoutRequested, m_resetLayoutAction, &QAction::trigger);
    connect(m_editor, &QPlainTextEdit::cursorPositionChanged, this, [this] {
        QStringList names;
        for (const auto &node : m_topology->model().nodes)
            names << node.name;
        const QString name = definedOn(m_editor->textCursor().block().text(), names);
        if (!name.isEmpty() && name != m_topology->selectedNode())
            m_topology->selectNode(name);
    });
    connect(m_zoomInAction, &QAction::triggered, m_topology, &TopologyView::zoomIn);
    connect(m_zoomOutAction, &QAction::triggered, m_topology, &TopologyView::zoomOut);
    connect(m_fitAction, &QAction::triggered, m_topology, &TopologyView::fitToWindow);
    connect(m_resetLayoutAction, &QAction::triggered, this, [this] {
        m_topology->resetLayout();
        showVariantTopology();
        m_topology->fitToWindow();
        saveLayoutBesideScenario();
    });
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(m_newAction);
    file->addAction(m_openAction);
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    connect(m_recentMenu, &QMenu::aboutToShow, this, &MainWindow::rebuildRecentMenu);
    rebuildRecentMenu();
    file->addSeparator();
    file->addAction(m_saveAction);
    file->addAction(m_saveAsAction);
    file->addSeparator();
    file->addAction(m_exportAction);
    file->addSeparator();
    file->addAction(m_quitAction);

    createEditMenu();

    QMenu *runMenu = menuBar()->addMenu(tr("&Run"));
    runMenu->addAction(m_runAction);
    runMenu->addAction(m_stopAction);

    m_viewMenu = menuBar()->addMenu(tr("&View"));
    m_viewMenu->addAction(m_zoomInAction);
    m_viewMenu->addAction(m_zoomOutAction);
    m_viewMenu->addAction(m_fitAction);
    m_viewMenu->addAction(m_resetLayoutAction);
    m_viewMenu->addSeparator();
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewMenu->addSeparator();
    QMenu *appearance = m_viewMenu->addMenu(tr("&Appearance"));
    auto *schemes = new QActionGroup(this);
    const int current = QSettings().value(kColorSchemeKey, int(ColorScheme::System)).toInt();
    const std::pair<ColorScheme, QString> choices[] = {
        {ColorScheme::System, tr("Follow the &System")}, {ColorScheme::Light, tr("&Light")}, {ColorScheme::Dark, tr("&Dark")}};
    for (const auto &[scheme, label] : choices) {
        QAction *a = appearance->addAction(label);
        a->setCheckable(true);
        a->setChecked(int(scheme) == current);
        schemes->addAction(a);
        connect(a, &QAction::triggered, this, [scheme = scheme] {
            QSettings().setValue(kColorSchemeKey, int(scheme));
            if (auto *app = qobject_cast<QApplication *>(QCoreApplication::instance()))
                applyColorScheme(*app, scheme);
        });
    }

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *helpAction = help->addAction(tr("EdgeSSE &Help"), this, &MainWindow::showHelp);
    helpAction->setObjectName(QStringLiteral("actionHelp"));
    helpAction->setShortcut(QKeySequence(Qt::Key_F1));
    help->addAction(m_aboutAction);
    help->addAction(tr("About &Qt"), qApp, &QApplication::aboutQt);
}

void MainWindow::createToolBar()
{
    QToolBar *bar = addToolBar(tr("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setIconSize(QSize(20, 20));
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->addAction(m_newAction);
    bar->addAction(m_openAction);
    bar->addAction(m_saveAction);
    bar->addSeparator();
    bar->addAction(m_runAction);
    m_timeScale = new QComboBox(bar);
    m_timeScale->setObjectName(QStringLiteral("timeScale"));
    m_timeScale->setToolTip(tr("Time scale: run the modelled world N times slower, so this machine's own delay "
                               "shrinks N times against it (figures stay in modelled time). Auto calibrates the "
                               "smallest N whose error p99 stays within 1 ms."));
    m_timeScale->addItem(tr("Real time"), 1.0);
    m_timeScale->addItem(tr("Auto time scale"), 0.0);
    for (const double n : {2.0, 5.0, 10.0, 20.0, 50.0, 100.0})
        m_timeScale->addItem(tr("%1x slower").arg(n), n);
    bar->addWidget(m_timeScale);
    bar->addAction(m_stopAction);
    bar->addSeparator();
    bar->addAction(m_exportAction);
}

void MainWindow::readSettings()
{
    QSettings settings;
    if (!restoreGeometry(settings.value(kGeometryKey).toByteArray()))
        resize(1440, 900);
    restoreState(settings.value(kStateKey).toByteArray());
    m_splitterRestored = m_splitter->restoreState(settings.value(kSplitterKey).toByteArray());
}

void MainWindow::writeSettings()
{
    QSettings settings;
    settings.setValue(kGeometryKey, saveGeometry());
    settings.setValue(kStateKey, saveState());
    settings.setValue(kSplitterKey, m_splitter->saveState());
    settings.setValue(kLastScenarioKey, m_path);
}

void MainWindow::restoreLastScenario()
{
    const QString last = QSettings().value(kLastScenarioKey).toString();
    if (!last.isEmpty() && QFileInfo::exists(last))
        openFile(last, true);
}

QStringList MainWindow::recentFiles() const
{
    return QSettings().value(kRecentFilesKey).toStringList();
}

void MainWindow::addRecentFile(const QString &path)
{
    QStringList files = recentFiles();
    const QString absolute = QFileInfo(path).absoluteFilePath();
    files.removeAll(absolute);
    files.prepend(absolute);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    QSettings settings;
    settings.setValue(kRecentFilesKey, files);
    settings.setValue(kLastScenarioKey, absolute);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = recentFiles();
    int index = 0;
    for (const QString &path : files) {
        ++index;
        const QString label = index < 10 ? QStringLiteral("&%1  %2").arg(index).arg(QFileInfo(path).fileName())
                                         : QFileInfo(path).fileName();
        QAction *a = m_recentMenu->addAction(label);
        a->setToolTip(path);
        a->setStatusTip(path);
        a->setEnabled(QFileInfo::exists(path));
        connect(a, &QAction::triggered, this, [this, path] {
            if (maybeSave())
                openFile(path);
        });
    }
    if (files.isEmpty()) {
        m_recentMenu->addAction(tr("No recent scenarios"))->setEnabled(false);
    } else {
        m_recentMenu->addSeparator();
        connect(m_recentMenu->addAction(tr("&Clear the List")), &QAction::triggered, this, [this] {
            QSettings().remove(kRecentFilesKey);
            rebuildRecentMenu();
        });
    }
}

void MainWindow::newScenario()
{
    m_path.clear();
    resetDocumentState();
    {
        const QSignalBlocker blocker(m_editor);
        m_editor->setPlainText(QString::fromUtf8(kNewScenario));
    }
    m_editor->document()->setModified(false);
    validateNow();
    showDocumentRuns();
    updateTitle();
}

// Everything that belonged to the previous document goes: the variants and their checks,
// live charts, the comparison, the run strip's text, the last result, the topology layout.
void MainWindow::resetDocumentState()
{
    m_readOnly = false;
    m_editor->setReadOnly(false);
    m_findBar->hide();
    m_topologyVariant.clear();
    m_topology->resetLayout();
    m_scenario.reset();
    m_diagnostics.clear();
    m_variants->reset();
    m_lastResult.reset();
    m_liveCharts->clear();
    m_liveFigures->setText(tr("Nothing running. Press Run (Ctrl+R) to watch delivery live."));
    m_comparison->clear();
    m_runs->clear();
    m_runPanel->showIdle();
    m_runPanel->clearFailure();
    m_views->setCurrentIndex(0);
}

QString MainWindow::runsFolder() const
{
    const QString root = m_untitledRunsRoot.isEmpty()
                             ? QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation)
                             : m_untitledRunsRoot;
    return runs::runsFolderFor(m_path, root);
}

void MainWindow::showDocumentRuns()
{
    waitForKeptRuns(); // a run still being written is listed too
    m_runs->setFolder(runsFolder());
}

bool MainWindow::openFile(const QString &path, bool quiet)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        if (!quiet)
            QMessageBox::warning(this, tr("Cannot open the file"),
                                 tr("%1 could not be read: %2.\nCheck the path and its permissions.")
                                     .arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    const QByteArray bytes = file.readAll();
    if (runs::looksLikeResults(bytes))
        return openResults(path, bytes, quiet);
    if (const QString why = whyNotText(bytes); !why.isEmpty()) {
        if (!quiet)
            QMessageBox::warning(this, tr("Not a scenario"),
                                 tr("%1 was not opened: %2.\nScenarios are YAML text files (.yaml); results are "
                                    "results.json files.")
                                     .arg(QDir::toNativeSeparators(path), why));
        statusBar()->showMessage(tr("%1 was not opened: %2").arg(QFileInfo(path).fileName(), why), 8000);
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    resetDocumentState();
    {
        const QSignalBlocker blocker(m_editor);
        m_editor->setPlainText(QString::fromUtf8(bytes));
    }
    m_editor->document()->setModified(false);
    m_editor->moveCursor(QTextCursor::Start);
    validateNow();
    m_topology->loadLayout(TopologyView::layoutPathFor(m_path));
    m_topology->fitToWindow();
    showDocumentRuns();
    addRecentFile(m_path);
    updateTitle();
    updateCursorPosition();
    statusBar()->showMessage(tr("Opened %1").arg(QDir::toNativeSeparators(m_path)), 4000);
    return true;
}

// A results.json: the comparison of its variants, the scenario text it was run from
// (read-only; Save As makes a scenario of it), its sibling runs listed under Runs.
bool MainWindow::openResults(const QString &path, const QByteArray &bytes, bool quiet)
{
    QString error;
    const std::optional<metrics::RunResult> result = metrics::RunResult::fromJsonBytes(bytes, &error);
    if (!result) {
        if (!quiet)
            QMessageBox::warning(this, tr("Cannot open the results"),
                                 tr("%1 is not a results.json EdgeSSE can read: %2.")
                                     .arg(QDir::toNativeSeparators(path), error));
        return false;
    }
    m_path = QFileInfo(path).absoluteFilePath();
    resetDocumentState();
    m_readOnly = true;
    {
        const QSignalBlocker blocker(m_editor);
        m_editor->setPlainText(result->scenarioText.isEmpty()
                                   ? tr("# %1 does not hold the scenario text it was run from (%2, version %3).\n")
                                         .arg(QFileInfo(path).fileName(), result->scenarioFile, result->toolVersion)
                                   : result->scenarioText);
    }
    m_editor->setReadOnly(true);
    m_editor->document()->setModified(false);
    m_editor->moveCursor(QTextCursor::Start);
    validateNow();
    m_runs->addRun(m_path, *result);
    m_views->setCurrentWidget(m_comparison);
    addRecentFile(m_path);
    updateTitle();
    updateCursorPosition();
    statusBar()->showMessage(tr("Opened the results %1 (read-only)").arg(QDir::toNativeSeparators(m_path)), 4000);
    return true;
}

bool MainWindow::saveTo(const QString &path)
{
    if (path == m_path && !m_readOnly && !m_editor->document()->isModified() && QFileInfo::exists(path)) {
        statusBar()->showMessage(tr("No changes to save"), 3000);
        return true; // nothing written when nothing changed
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_editor->toPlainText().toUtf8()) < 0 || !file.commit()) {
        QMessageBox::warning(this, tr("Cannot save the scenario"),
                             tr("%1 could not be written: %2.\nChoose another folder or check its permissions.")
                                 .arg(QDir::toNativeSeparators(path), file.errorString()));
        return false;
    }
    const bool wasResults = m_readOnly;
    m_path = QFileInfo(path).absoluteFilePath();
    m_readOnly = false;
    m_editor->setReadOnly(false);
    m_editor->document()->setModified(false);
    saveLayoutBesideScenario();
    if (wasResults)
        showDocumentRuns();
    addRecentFile(m_path);
    validateNow(); // diagnostics name the file
    updateTitle();
    statusBar()->showMessage(tr("Saved %1").arg(QDir::toNativeSeparators(m_path)), 4000);
    return true;
}

bool MainWindow::save()
{
    return m_path.isEmpty() || m_readOnly ? saveAs() : saveTo(m_path);
}

QString MainWindow::withScenarioSuffix(const QString &path)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    return suffix == QLatin1String("yaml") || suffix == QLatin1String("yml") ? path : path + QStringLiteral(".yaml");
}

bool MainWindow::saveAs()
{
    QString suggested = m_path.isEmpty() ? QStringLiteral("scenario.yaml") : m_path;
    if (m_readOnly)
        suggested = QFileInfo(m_path).dir().filePath(QStringLiteral("scenario.yaml"));
    const QString path = QFileDialog::getSaveFileName(this, tr("Save Scenario"), suggested, tr("Scenarios (*.yaml *.yml)"));
    return !path.isEmpty() && saveTo(withScenarioSuffix(path));
}

void MainWindow::open()
{
    if (!maybeSave())
        return;
    const QString dir = m_path.isEmpty() ? QString() : QFileInfo(m_path).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Scenario or Results"), dir,
                                                      tr("Scenarios and results (*.yaml *.yml *.json);;Scenarios (*.yaml *.yml);;"
                                                         "Results (results.json *.json);;All files (*)"));
    if (!path.isEmpty())
        openFile(path);
}

bool MainWindow::maybeSave()
{
    if (m_readOnly || !m_editor->document()->isModified())
        return true;
    const auto answer = QMessageBox::warning(this, tr("Unsaved changes"),
                                             tr("The scenario has changes that are not saved. Save them first?"),
                                             QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel);
    if (answer == QMessageBox::Save)
        return save();
    return answer == QMessageBox::Discard;
}

void MainWindow::saveLayoutBesideScenario()
{
    if (m_path.isEmpty())
        return;
    QString error;
    if (!m_topology->saveLayout(TopologyView::layoutPathFor(m_path), &error))
        statusBar()->showMessage(tr("The topology layout could not be saved: %1").arg(error), 6000);
}

void MainWindow::onTextEdited()
{
    m_validationTimer->start();
}

void MainWindow::validateNow()
{
    m_validationTimer->stop();
    const QString fileName = m_path.isEmpty() ? QStringLiteral("untitled.yaml") : QFileInfo(m_path).fileName();
    scenario::LoadResult result = scenario::loadFromText(m_editor->toPlainText().toUtf8(), fileName);
    m_diagnostics = result.diagnostics;
    const QList<TextMark> marks = textMarksOf(result.diagnostics);
    m_editor->setMarks(marks);
    m_diagnosticsPanel->setDiagnostics(fileName, marks);
    if (!result.scenario) {
        // Problems that leave the structure whole (the descriptor budget) keep the picture.
        scenario::LoadOptions structureOnly;
        structureOnly.descriptorBudget = false;
        result.scenario = scenario::loadFromText(m_editor->toPlainText().toUtf8(), fileName, structureOnly).scenario;
    }
    if (result.scenario) {
        m_scenario = std::move(result.scenario);
        m_variants->setVariants(variantEntriesOf(*m_scenario));
        showVariantTopology();
    }
    const ThemeColors colors = themeColors(palette());
    if (m_diagnostics.isEmpty()) {
        m_validityLabel->setText(tr("✓ valid · %1").arg(variantsText(m_scenario ? m_scenario->variants.size() : 0)));
        m_validityLabel->setStyleSheet(QStringLiteral("color: %1;").arg(colors.ok.name()));
    } else {
        m_validityLabel->setText(tr("✗ %1").arg(problemsText(m_diagnostics.size())));
        m_validityLabel->setStyleSheet(QStringLiteral("color: %1;").arg(colors.error.name()));
    }
    updateTitle();
    updateActions();
    emit validated(m_diagnostics.isEmpty());
}

void MainWindow::showVariantTopology()
{
    if (!m_scenario || m_scenario->variants.isEmpty())
        return;
    const scenario::Variant *variant = m_scenario->variant(m_topologyVariant);
    if (!variant)
        variant = &m_scenario->variants.first();
    m_topology->setModel(topologyOf(*variant));
}

void MainWindow::updateTitle()
{
    QString name = m_path.isEmpty() ? tr("untitled.yaml") : QFileInfo(m_path).fileName();
    if (m_readOnly)
        name += tr(" (results, read-only)");
    setWindowTitle(QStringLiteral("%1[*] — EdgeSSE").arg(name));
    setWindowModified(m_editor->document()->isModified());
    const ThemeColors colors = themeColors(palette());
    const QString state = m_diagnostics.isEmpty()
                              ? QStringLiteral("<span style='color:%1'>✓ valid</span>").arg(colors.ok.name())
                              : QStringLiteral("<span style='color:%1'>✗ %2</span>")
                                    .arg(colors.error.name(), problemsText(m_diagnostics.size()));
    const QString title = m_scenario && m_diagnostics.isEmpty() ? m_scenario->name.toHtmlEscaped() : QString();
    m_editorHeader->setText(QStringLiteral("<b>%1</b>%2 &nbsp; %3 &nbsp; <span style='color:%4'>%5</span>")
                                .arg(name.toHtmlEscaped(), m_editor->document()->isModified() ? QStringLiteral(" •") : QString(),
                                     state, colors.mutedText.name(), title));
}

void MainWindow::updateActions()
{
    const bool running = isRunning();
    m_runAction->setEnabled(!running && !m_readOnly && m_diagnostics.isEmpty() && m_scenario
                            && !m_variants->checkedVariants().isEmpty());
    m_stopAction->setEnabled(running);
    m_exportAction->setEnabled(!running && (!m_comparison->comparison().isEmpty() || m_lastResult.has_value()));
    m_saveAction->setEnabled(!m_readOnly);
}

bool MainWindow::isRunning() const
{
    return m_controller->isRunning();
}

bool MainWindow::startRun()
{
    if (isRunning())
        return false;
    if (m_validationTimer->isActive())
        validateNow(); // the last edit has not been validated yet
    if (m_readOnly) {
        m_runPanel->showFailed(tr("these are results, read-only; Save As a scenario (Ctrl+Shift+S) to run it again."));
        return false;
    }
    if (!m_diagnostics.isEmpty() || !m_scenario) {
        m_runPanel->showFailed(tr("the scenario has problems; fix the ones listed under Problems first."));
        return false;
    }
    const QStringList variants = m_variants->checkedVariants();
    if (variants.isEmpty()) {
        m_runPanel->showFailed(tr("no variant is checked; check at least one under Variants."));
        return false;
    }
    m_runScenarioText = m_editor->toPlainText();
    m_runScenarioFile = m_path.isEmpty() ? QStringLiteral("untitled.yaml") : m_path;
    m_liveCharts->clear();
    m_lastSnapshotAt = -1;
    m_lastSnapshotVariant.clear();
    m_variantIndex = 0;
    m_variantCount = int(variants.size());
    m_fraction = 0;
    m_progressDirty = false;
    m_runPanel->showStarting(int(variants.size()));
    m_liveFigures->setText(tr("Starting…"));
    m_views->setCurrentIndex(1);
    sim::RunOptions options = m_runOptions;
    if (m_timeScale) {
        const double scale = m_timeScale->currentData().toDouble();
        options.autoTimeScale = scale == 0.0;
        options.timeScale = scale > 0.0 ? scale : 1.0;
    }
    {
        const StallTrace t("start run: controller");
        m_controller->start(*m_scenario, variants == m_variants->allVariants() ? QStringList() : variants, options);
    }
    if (!isRunning())
        return false; // failed() already reported why
    m_liveTimer->start();
    updateActions();
    emit runStarted();
    return true;
}

void MainWindow::stopRun()
{
    if (isRunning())
        m_controller->cancel();
}

void MainWindow::onRunEnded(const QString &message)
{
    m_liveTimer->stop();
    onLiveTick(); // draw what arrived since the last tick
    m_topology->clearLoad();
    m_runPanel->showIdle(message);
    updateActions();
    emit runEnded();
}

void MainWindow::onLiveTick()
{
    const StallTrace trace("live tick");
    if (isRunning()) {
        const sim::LiveSnapshot snapshot = m_controller->snapshot();
        if (snapshot.valid && (snapshot.elapsedSeconds != m_lastSnapshotAt || snapshot.variant != m_lastSnapshotVariant)) {
            m_lastSnapshotAt = snapshot.elapsedSeconds;
            m_lastSnapshotVariant = snapshot.variant;
            m_liveCharts->setResult(liveResult());
            m_topology->setLoad(topologyLoadFromSnapshot(snapshot));
            const QLocale locale;
            m_liveFigures->setText(
                tr("<b>%1</b> &nbsp; %2 s &nbsp;·&nbsp; published <b>%3</b> &nbsp;·&nbsp; delivered <b>%4</b> &nbsp;·&nbsp; "
                   "streams open <b>%5</b> &nbsp;·&nbsp; starved <b>%6</b> &nbsp;·&nbsp; reconnects <b>%7</b>")
                    .arg(snapshot.variant.toHtmlEscaped(), locale.toString(std::max(0.0, snapshot.elapsedSeconds), 'f', 1),
                         locale.toString(qulonglong(snapshot.published)), locale.toString(qulonglong(snapshot.delivered)),
                         locale.toString(qulonglong(snapshot.streamsOpen)), locale.toString(qulonglong(snapshot.streamsStarved)),
                         locale.toString(qulonglong(snapshot.reconnects))));
        }
    }
    if (m_progressDirty) {
        m_progressDirty = false;
        m_runPanel->showProgress(m_fraction, m_runningVariant, m_variantIndex, m_variantCount, m_eta);
    }
    m_liveCharts->refresh();
}

void MainWindow::onRunFinished(const metrics::RunResult &finished)
{
    const StallTrace trace("run finished");
    m_lastResult = finished;
    metrics::RunResult &result = *m_lastResult;
    if (m_scenario)
        runs::describeScenario(result, *m_scenario, m_runScenarioText.isEmpty() ? m_editor->toPlainText() : m_runScenarioText);
    result.scenarioFile = QFileInfo(m_runScenarioFile).fileName();
    m_runs->addRun(keepRun(result), result); // compares the checked runs
    m_views->setCurrentWidget(m_comparison);
    onRunEnded(result.variants.size() == 1 ? tr("Finished: the variant is in the Comparison tab.")
                                           : tr("Finished: %1 compared in the Comparison tab.").arg(variantsText(result.variants.size())));
}

// The run's folder is made here, so the runs named and listed after it know of it; its
// results.json is encoded and written (synced to disk) on a thread of its own, which would
// otherwise hold the GUI thread for frames. Returns the file it is being written to.
QString MainWindow::keepRun(const metrics::RunResult &result)
{
    QString error;
    QString file = runs::newRunFile(result, runsFolder(), &error);
    if (file.isEmpty()) {
        statusBar()->showMessage(tr("The run could not be kept: %1").arg(error), 10000);
        return {};
    }
    m_writer.start([this, file, kept = std::make_shared<const metrics::RunResult>(result)] {
        QString failure;
        if (!runs::writeRunFile(*kept, file, &failure))
            QMetaObject::invokeMethod(
                this, [this, failure] { statusBar()->showMessage(tr("The run could not be kept: %1").arg(failure), 10000); },
                Qt::QueuedConnection);
    });
    return file;
}

void MainWindow::waitForKeptRuns()
{
    m_writer.waitForDone();
}

// The engine's live snapshot with what the charts need of the scenario: its variants (for
// their colours) and each variant's warm-up (shaded).
metrics::RunResult MainWindow::liveResult() const
{
    metrics::RunResult result = m_controller->liveResult();
    if (!m_scenario)
        return result;
    runs::describeScenario(result, *m_scenario, {});
    for (metrics::VariantResult &v : result.variants) {
        const scenario::Variant *variant = m_scenario->variant(v.name);
        if (variant && !v.resolved.contains(QLatin1String("warmup")))
            v.resolved.insert(QStringLiteral("warmup"), scenario::units::formatDuration(variant->warmup));
    }
    return result;
}

void MainWindow::compareCheckedRuns()
{
    QStringList problems;
    const QList<metrics::RunResult> checked = m_runs->checkedResults(&problems);
    const QString baseline = m_comparison->comparison().isEmpty()
                                 ? QString()
                                 : m_comparison->comparison().entries.value(m_comparison->comparison().baseline).label;
    runs::Comparison comparison = runs::compare(checked);
    if (const int kept = comparison.indexOf(baseline); kept >= 0)
        comparison.baseline = kept;
    m_comparison->setComparison(comparison);
    if (!problems.isEmpty())
        statusBar()->showMessage(tr("Could not read %1").arg(problems.join(QStringLiteral("; "))), 10000);
    updateActions();
}

QStringList MainWindow::exportTo(const QString &dir, QString *error)
{
    const runs::Comparison &comparison = m_comparison->comparison();
    if (comparison.isEmpty() && !m_lastResult) {
        if (error)
            *error = tr("there is nothing to export yet: run the scenario first");
        return {};
    }
    ExportRequest request;
    request.comparison = comparison;
    request.result = comparison.isEmpty() ? *m_lastResult : comparison.asRunResult();
    if (m_lastResult && comparison.entries.size() == int(m_lastResult->variants.size())
        && std::equal(comparison.entries.begin(), comparison.entries.end(), m_lastResult->variants.begin(),
                      [](const runs::Entry &e, const metrics::VariantResult &v) { return e.label == v.name; }))
        request.result = *m_lastResult; // the last run itself: its start time, seed and tool
    request.scenarioText = request.result.scenarioText.isEmpty() ? m_editor->toPlainText() : request.result.scenarioText;
    request.scenarioFile = m_runScenarioFile.isEmpty() ? m_path : m_runScenarioFile;
    request.theme = isDarkPalette(palette()) ? charts::Theme::Dark : charts::Theme::Light;
    request.topologyPng = m_topology->renderPng();
    return exportResults(request, dir, error);
}

void MainWindow::exportInteractively()
{
    if (m_comparison->comparison().isEmpty() && !m_lastResult)
        return;
    const QString base = m_path.isEmpty() ? QDir::homePath() : QFileInfo(m_path).absolutePath();
    const QString suggested = QDir(base).filePath(
        (m_path.isEmpty() ? QStringLiteral("edgesse") : QFileInfo(m_path).completeBaseName()) + QStringLiteral("-results"));
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Export Results To"), QDir(suggested).exists() ? suggested : base);
    if (dir.isEmpty())
        return;
    QApplication::setOverrideCursor(Qt::WaitCursor);
    QString error;
    const QStringList written = exportTo(dir, &error);
    QApplication::restoreOverrideCursor();
    if (written.isEmpty()) {
        QMessageBox::warning(this, tr("Export failed"), tr("The results could not be exported: %1.").arg(error));
        return;
    }
    statusBar()->showMessage(tr("Exported %1 to %2").arg(filesText(written.size()), QDir::toNativeSeparators(dir)), 8000);
    const QString report = QDir(dir).filePath(QStringLiteral("report.html"));
    if (QMessageBox::information(this, tr("Export finished"),
                                 tr("%1 written to %2:\ncharts (PNG, SVG, PDF), results.json, CSV files and report.html.")
                                     .arg(filesText(written.size()), QDir::toNativeSeparators(dir)),
                                 QMessageBox::Open | QMessageBox::Close) == QMessageBox::Open)
        QDesktopServices::openUrl(QUrl::fromLocalFile(report));
}

void MainWindow::updateCursorPosition()
{
    m_cursorLabel->setText(tr("Ln %1, Col %2").arg(m_editor->cursorLine()).arg(m_editor->cursorColumn()));
}

void MainWindow::showAbout()
{
    QMessageBox about(this);
    about.setWindowTitle(tr("About EdgeSSE"));
    about.setIconPixmap(QIcon(QStringLiteral(":/edgesse/icons/edgesse.svg")).pixmap(64, 64));
    about.setText(tr("<h3>EdgeSSE %1</h3><p>A desktop lab for real-time delivery over Server-Sent Events: real servers, "
                     "real link proxies and real browser-like clients on this machine, every event measured from publish "
                     "to receipt.</p><p>Built with Qt %2.</p>")
                      .arg(QStringLiteral(EDGESSE_VERSION), QLatin1String(qVersion())));
    about.exec();
}

void MainWindow::applyTheme()
{
    const bool dark = isDarkPalette(palette());
    m_highlighter->setDark(dark);
    m_liveCharts->setTheme(dark ? charts::Theme::Dark : charts::Theme::Light);
    m_comparison->setTheme(dark ? charts::Theme::Dark : charts::Theme::Light);
    updateTitle();
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_highlighter)
        applyTheme();
}

void MainWindow::showEvent(QShowEvent *event)
{
    QMainWindow::showEvent(event);
    // First start: the editor gets a third of the width, the views the rest.
    if (!m_splitterRestored) {
        m_splitterRestored = true;
        const int width = m_splitter->width();
        m_splitter->setSizes({width * 9 / 25, width - width * 9 / 25});
    }
}

// Asked before anything else when quitting during a run; Cancel leaves the run going.
bool MainWindow::confirmQuitWhileRunning()
{
    QMessageBox box(QMessageBox::Question, tr("A run is in progress"),
                    tr("%1 is running. Stop the run and quit?").arg(m_runningVariant.isEmpty() ? tr("A variant") : m_runningVariant),
                    QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("quitWhileRunningBox"));
    QPushButton *stop = box.addButton(tr("Stop and Quit"), QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == stop;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (isRunning() && !confirmQuitWhileRunning()) {
        event->ignore();
        return;
    }
    if (!maybeSave()) {
        event->ignore();
        return;
    }
    if (isRunning())
        m_controller->cancel();
    writeSettings();
    event->accept();
}

void MainWindow::goToLine()
{
    bool ok = false;
    const int line = QInputDialog::getInt(this, tr("Go to Line"), tr("Line (1–%1):").arg(m_editor->blockCount()),
                                          m_editor->cursorLine(), 1, m_editor->blockCount(), 1, &ok);
    if (ok)
        m_editor->goTo(line, 1);
}

bool MainWindow::goToProblem(bool previous)
{
    const QList<TextMark> &marks = m_editor->marks();
    if (marks.isEmpty())
        return false;
    const int line = m_editor->cursorLine();
    const int column = m_editor->cursorColumn();
    const auto before = [](const TextMark &m, int l, int c) { return m.line < l || (m.line == l && m.column < c); };
    const TextMark *target = nullptr;
    if (previous) {
        for (const TextMark &m : marks)
            if (before(m, line, column))
                target = &m;
        if (!target)
            target = &marks.last();
    } else {
        for (const TextMark &m : marks)
            if (!target && !before(m, line, column + 1))
                target = &m;
        if (!target)
            target = &marks.first();
    }
    m_editor->goTo(target->line, target->column);
    statusBar()->showMessage(target->message, 8000);
    return true;
}

void MainWindow::showHelp()
{
    QString anchor = QStringLiteral("the-desktop-app");
    if (m_editor->hasFocus())
        anchor = QStringLiteral("the-scenario-language");
    else if (m_views->currentWidget() == m_comparison || m_runs->isAncestorOf(focusWidget()))
        anchor = QStringLiteral("results");
    const QUrl url = readmeSection(anchor);
    if (url.isEmpty() || !QDesktopServices::openUrl(url))
        statusBar()->showMessage(tr("The README could not be opened: install EdgeSSE with cmake --install, or open README.md "
                                    "from its source folder"),
                                 8000);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() == 1 && isScenarioFile(urls.first()))
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QList<QUrl> urls = event->mimeData()->urls();
    if (urls.size() != 1 || !isScenarioFile(urls.first()))
        return;
    event->acceptProposedAction();
    const QString path = urls.first().toLocalFile();
    // Opening may ask about unsaved changes; not from inside the drop handler.
    QTimer::singleShot(0, this, [this, path] {
        if (maybeSave())
            openFile(path);
    });
}

} // namespace edgesse::gui
