#pragma once

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"
#include "core/sim/runoptions.h"

#include <QMainWindow>
#include <QThreadPool>

#include <chrono>
#include <optional>

class QAction;
class QLabel;
class QMenu;
class QSplitter;
class QTabWidget;
class QTimer;
class QToolButton;
class QComboBox;

namespace edgesse::sim {
class RunController;
}

namespace edgesse::gui {

class ChartGrid;
class CodeEditor;
class ComparisonView;
class DiagnosticsPanel;
class FindBar;
class RunsPanel;
class RunPanel;
class TopologyView;
class VariantList;
class YamlHighlighter;

// The desktop app's window: the scenario editor with live validation, the variants to run,
// the topology, the run strip, live charts and the comparison of the variants after a run.
class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    static constexpr int kMaxRecentFiles = 10;
    static constexpr int kValidationDelayMs = 300;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a scenario, or a results.json as results (read-only, with the scenario text it
    // was run from); refuses binary and non-UTF-8 files. On failure says why in a message
    // box unless `quiet`.
    bool openFile(const QString &path, bool quiet = false);
    bool isReadOnlyDocument() const { return m_readOnly; }
    // Where the runs of the open document are kept, and the folder for an unsaved one's.
    QString runsFolder() const;
    void setUntitledRunsRoot(const QString &dir) { m_untitledRunsRoot = dir; }
    // Writes the editor's text to `path` (nothing when it is the open file, unchanged).
    bool saveTo(const QString &path);
    // What Save As writes for a name typed without an extension: NAME.yaml.
    static QString withScenarioSuffix(const QString &path);
    void newScenario();
    // Validates the editor's text now instead of after the debounce delay.
    void validateNow();
    // Reopens the scenario open when the app was last closed (when it still exists).
    void restoreLastScenario();

    // Runs the checked variants (false, with the reason shown, when the scenario has
    // problems or no variant is checked); stopRun() cancels at once.
    bool startRun();
    void stopRun();
    bool isRunning() const;
    // Overrides for the next runs (a shorter duration, a seed); the UI runs the scenario as written.
    void setRunOptions(const sim::RunOptions &options) { m_runOptions = options; }
    const std::optional<metrics::RunResult> &lastResult() const { return m_lastResult; }
    // Blocks until every finished run's results.json is written (they are written off the
    // GUI thread, in the order the runs ended).
    void waitForKeptRuns();
    // Writes every export file of the last run into `dir`; returns the paths written.
    QStringList exportTo(const QString &dir, QString *error = nullptr);

    QString currentFile() const { return m_path; }
    const std::optional<scenario::Scenario> &scenario() const { return m_scenario; }
    const QList<scenario::Diagnostic> &diagnostics() const { return m_diagnostics; }
    QStringList recentFiles() const;

    CodeEditor *editor() const { return m_editor; }
    DiagnosticsPanel *diagnosticsPanel() const { return m_diagnosticsPanel; }
    VariantList *variantList() const { return m_variants; }
    TopologyView *topologyView() const { return m_topology; }
    RunPanel *runPanel() const { return m_runPanel; }
    QTabWidget *views() const { return m_views; }
    ChartGrid *liveCharts() const { return m_liveCharts; }
    ComparisonView *comparisonView() const { return m_comparison; }
    RunsPanel *runsPanel() const { return m_runs; }
    // The run option "time scale": 1, a fixed N, or auto (data: the scale, 0 for auto).
    QComboBox *timeScaleBox() const { return m_timeScale; }
    FindBar *findBar() const { return m_findBar; }
    QLabel *cursorLabel() const { return m_cursorLabel; }
    QLabel *liveFigures() const { return m_liveFigures; }
    // Moves to the next (or previous) problem after the cursor, wrapping; false when none.
    bool goToProblem(bool previous);
    sim::RunController *runController() const { return m_controller; }
    QAction *action(const QString &objectName) const;

signals:
    void validated(bool valid);
    void runStarted();
    void runEnded(); // finished, failed or stopped: the window is idle again

protected:
    void closeEvent(QCloseEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    void createActions();
    void createMenus();
    void createToolBar();
    void createLayout();
    void readSettings();
    void writeSettings();
    void addRecentFile(const QString &path);
    void rebuildRecentMenu();
    void updateTitle();
    void updateActions();
    void updateCursorPosition();
    void onTextEdited();
    void showVariantTopology();
    void saveLayoutBesideScenario();
    bool maybeSave();
    bool save();
    bool saveAs();
    void open();
    void showAbout();
    void applyTheme();
    void exportInteractively();
    void onLiveTick();
    void onRunEnded(const QString &message);
    void onRunFinished(const metrics::RunResult &result);
    QString keepRun(const metrics::RunResult &result);
    void resetDocumentState();
    void showDocumentRuns();
    void compareCheckedRuns();
    metrics::RunResult liveResult() const;
    bool openResults(const QString &path, const QByteArray &bytes, bool quiet);
    bool confirmQuitWhileRunning();
    void goToLine();
    void showHelp();
    void createEditMenu();

    // Actions
    QAction *m_newAction = nullptr;
    QAction *m_openAction = nullptr;
    QAction *m_saveAction = nullptr;
    QAction *m_saveAsAction = nullptr;
    QAction *m_runAction = nullptr;
    QComboBox *m_timeScale = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_exportAction = nullptr;
    QAction *m_quitAction = nullptr;
    QAction *m_aboutAction = nullptr;
    QAction *m_zoomInAction = nullptr;
    QAction *m_zoomOutAction = nullptr;
    QAction *m_fitAction = nullptr;
    QAction *m_resetLayoutAction = nullptr;
    QMenu *m_recentMenu = nullptr;
    QMenu *m_viewMenu = nullptr;

    // Views
    CodeEditor *m_editor = nullptr;
    YamlHighlighter *m_highlighter = nullptr;
    QLabel *m_editorHeader = nullptr;
    DiagnosticsPanel *m_diagnosticsPanel = nullptr;
    VariantList *m_variants = nullptr;
    TopologyView *m_topology = nullptr;
    RunPanel *m_runPanel = nullptr;
    QTabWidget *m_views = nullptr;
    QSplitter *m_splitter = nullptr;
    QLabel *m_cursorLabel = nullptr;
    QLabel *m_validityLabel = nullptr;

    // State
    QTimer *m_validationTimer = nullptr;
    QString m_path;
    std::optional<scenario::Scenario> m_scenario; // the last text that validated
    QList<scenario::Diagnostic> m_diagnostics;
    QString m_topologyVariant;
    bool m_splitterRestored = false;

    // Run
    sim::RunController *m_controller = nullptr;
    sim::RunOptions m_runOptions;
    QTimer *m_liveTimer = nullptr;   // the one timer that redraws live views (~10 Hz)
    ChartGrid *m_liveCharts = nullptr;
    QLabel *m_liveFigures = nullptr;
    ComparisonView *m_comparison = nullptr;
    RunsPanel *m_runs = nullptr;
    FindBar *m_findBar = nullptr;
    bool m_readOnly = false; // a results.json is open
    QString m_untitledRunsRoot;
    std::optional<metrics::RunResult> m_lastResult;
    QString m_runScenarioText;
    QString m_runScenarioFile;
    // Dirty state set by the controller's signals, consumed by onLiveTick().
    bool m_progressDirty = false;
    double m_fraction = 0;
    QString m_runningVariant;
    int m_variantIndex = 0;
    int m_variantCount = 0;
    std::chrono::seconds m_eta{0};
    double m_lastSnapshotAt = -1;
    QString m_lastSnapshotVariant;
    QThreadPool m_writer; // writes the runs' results.json
};

} // namespace edgesse::gui
