#pragma once

#include "core/sim/livesnapshot.h"
#include "core/sim/runoptions.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <chrono>
#include <memory>

namespace edgesse::scenario {
struct Scenario;
struct Variant;
}
namespace edgesse::metrics {
struct RunResult;
struct VariantResult;
}

namespace edgesse::sim {

class Run;

// Runs a scenario's variants one after another on data-plane threads it owns, reports
// progress and results with signals, and can be cancelled at any moment. Lives in (and is
// driven from) one thread with an event loop — the GUI thread or the CLI's main thread;
// it never blocks that thread for long: set-up and tear-down happen on the worker threads.
// Exactly one of finished(), failed() or cancelled() ends every start().
class RunController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RunController)

public:
    explicit RunController(QObject *parent = nullptr);
    ~RunController() override; // cancels a run in progress and waits for its threads

    // `variantNames` empty = every variant of the scenario. Unknown names fail the run.
    // Ignored (with a warning) while a run is in progress.
    void start(const scenario::Scenario &scenario, const QStringList &variantNames, const RunOptions &options);
    // Stops at once: returns immediately; cancelled() follows as soon as clients, servers and
    // links are closed, threads joined and ports released (isRunning() is true until then).
    void cancel();
    bool isRunning() const;

    // Thread-safe and cheap: a copy of the current variant's live figures.
    LiveSnapshot snapshot() const;
    // The variants finished so far plus the current one's figures so far (time series,
    // latency), in the shape the chart builders take. Thread-safe; about 10 Hz is fine.
    metrics::RunResult liveResult() const;

signals:
    void progressChanged(double fraction, const QString &variant, std::chrono::seconds eta);
    void variantStarted(const QString &variant, int index, int count);
    void variantFinished(const edgesse::metrics::VariantResult &result);
    // --time-scale auto: a variant's calibration runs begin, and what they chose (with why,
    // and the wall time the variant will take at it).
    void calibrating(const QString &variant);
    void timeScaleChosen(const QString &variant, double scale, const QString &reason, double wallSeconds);
    void finished(const edgesse::metrics::RunResult &result);
    void failed(const QString &reason);
    void cancelled();

private:
    struct State;
    void startNextVariant();
    void startRun(scenario::Variant variant, double scale, bool calibration);
    void onCalibrated();
    void onVariantDone();
    void onVariantFailed(const QString &reason);
    void onVariantCancelled();
    void onProgress(double fraction);
    // Wall seconds per modelled second the variant at `variant` runs (or is expected to run) at,
    // so that progress and the time left are in wall time.
    double expectedScale(std::size_t variant) const;
    std::unique_ptr<Run> takeRun(); // the current run, no longer shared with liveResult()
    void endRun();

    std::unique_ptr<State> m_state;
    int m_threads = 0;
    double m_timeScale = 1;
    bool m_autoTimeScale = false;
    double m_toleranceMs = 1.0;
    QString m_outputDirectory;
};

} // namespace edgesse::sim
