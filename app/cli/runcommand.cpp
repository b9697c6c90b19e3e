#include "app/charts/charts.h"
#include "app/cli/cli.h"
#include "app/cli/clioptions.h"
#include "app/cli/commands.h"
#include "app/cli/signalwatcher.h"
#include "app/cli/summarytable.h"
#include "app/runs/runstore.h"
#include "core/io/outputset.h"
#include "core/metrics/csvwriter.h"
#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"
#include "core/sim/runcontroller.h"

#include <QCoreApplication>
#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>

#include <cstdio>
#include <unistd.h>

namespace edgesse::cli {

namespace {

// Results, CSV and charts as one set: all of them replace an earlier run's, or none does.
int writeOutputs(const metrics::RunResult &result, const QString &outDir, const QStringList &outputNames)
{
    QString error;
    const auto charts = charts::chartFiles(result, {}, &error);
    if (!charts) {
        printErr(QStringLiteral("edgesse run: could not write the results: %1\n").arg(error));
        return kExitRunFailed;
    }
    io::OutputSet set(outDir);
    auto files = metrics::resultFiles(result);
    files.insert(files.end(), charts->begin(), charts->end());
    for (const auto &[name, bytes] : files)
        if (!set.add(name, bytes))
            break;
    if (!set.commit()) {
        printErr(QStringLiteral("edgesse run: could not write the results (no file of this run was kept): %1\n").arg(set.error()));
        return kExitRunFailed;
    }
    printErr(QStringLiteral("wrote %1 files to %2 (results.json, CSV, charts)\n")
                 .arg(set.paths().size())
                 .arg(QDir::toNativeSeparators(outDir)));
    const QStringList leftover = io::leftoverFiles(outDir, outputNames, set.paths());
    if (!leftover.isEmpty())
        printErr(QStringLiteral("edgesse run: warning: %1 still holds %2 from an earlier run, not written by this one\n")
                     .arg(QDir::toNativeSeparators(outDir), leftover.join(QStringLiteral(", "))));
    return kExitOk;
}

// What a dilated run will take, and which variants cannot be dilated (they run at scale 1).
void reportTimeScale(const scenario::Scenario &scenario, const QStringList &names, const sim::RunOptions &options)
{
    double wallSeconds = 0;
    for (const scenario::Variant &v : scenario.variants) {
        if (!names.isEmpty() && !names.contains(v.name))
            continue;
        const QString refusal = v.timeDilationRefusal();
        const double scale = refusal.isEmpty() ? options.timeScale : 1.0;
        if (!refusal.isEmpty())
            printErr(QStringLiteral("edgesse run: %1 runs at time scale 1: %2\n").arg(v.name, refusal));
        const auto modelled = options.duration.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(v.duration))
            + options.warmup.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(v.warmup));
        wallSeconds += scale * double(modelled.count()) / 1000.0;
    }
    printErr(QStringLiteral("edgesse run: time scale %1: every modelled duration x%1, every rate /%1; "
                            "figures are reported in modelled time; about %2 s of wall time plus set-up\n")
                 .arg(options.timeScale)
                 .arg(wallSeconds, 0, 'f', 0));
}

// What a run says on stderr while it goes, and what it ends with.
struct RunWatch {
    int exitCode = kExitOk;
    std::optional<metrics::RunResult> result;
    bool progressShown = false;
    bool interactive = false;
    int lastDecile = -1;
    QString lastVariant;
};

void printProgress(RunWatch &w, double fraction, const QString &variant, std::chrono::seconds eta)
{
    const int percent = int(fraction * 100);
    if (w.interactive) {
        printErr(QStringLiteral("\r%1: %2%  ETA %3s   ").arg(variant).arg(percent, 3).arg(eta.count()));
        w.progressShown = true;
        return;
    }
    // A log file or a pipe gets a line every tenth of the run, not a line a tick.
    if (percent / 10 == w.lastDecile && variant == w.lastVariant)
        return;
    w.lastDecile = percent / 10;
    w.lastVariant = variant;
    printErr(QStringLiteral("%1: %2%  ETA %3s\n").arg(variant).arg(percent, 3).arg(eta.count()));
}

void watchRun(sim::RunController &controller, SignalWatcher &watcher, QEventLoop &loop, const sim::RunOptions &options,
              RunWatch &w)
{
    QObject::connect(&watcher, &SignalWatcher::interrupted, &controller, [&](int) {
        printErr(QStringLiteral("\nedgesse run: interrupted; stopping\n"));
        w.exitCode = kExitInterrupted;
        controller.cancel();
    });
    QObject::connect(&controller, &sim::RunController::progressChanged, &loop,
                     [&](double fraction, const QString &variant, std::chrono::seconds eta) {
                         printProgress(w, fraction, variant, eta);
                     });
    QObject::connect(&controller, &sim::RunController::calibrating, &loop, [&](const QString &variant) {
        printErr(QStringLiteral("%1: calibrating the time scale (short runs, error p99 within %2 ms)\n")
                     .arg(variant)
                     .arg(options.toleranceMs, 0, 'g', 6));
    });
    QObject::connect(&controller, &sim::RunController::timeScaleChosen, &loop,
                     [&](const QString &variant, double scale, const QString &reason, double wallSeconds) {
                         printErr(QStringLiteral("%1: time scale %2: %3; about %4 s of wall time plus set-up\n")
                                      .arg(variant)
                                      .arg(scale, 0, 'g', 6)
                                      .arg(reason)
                                      .arg(wallSeconds, 0, 'f', 0));
                     });
    QObject::connect(&controller, &sim::RunController::variantFinished, &loop,
                     [&](const metrics::VariantResult &variant) {
                         const QString scaled = variant.timeScale > 1.0 || options.autoTimeScale
                             ? QStringLiteral(", time scale %1: %2 s modelled in %3 s, error p99 %4 ms, tolerance %5 ms")
                                   .arg(variant.timeScale, 0, 'g', 6)
                                   .arg(variant.durationS, 0, 'f', 1)
                                   .arg(variant.wallS, 0, 'f', 1)
                                   .arg(variant.error.percentiles.p99, 0, 'f', 3)
                                   .arg(variant.toleranceMs, 0, 'g', 6)
                             : QString();
                         printErr(QStringLiteral("%1%2: done (%3 of %4 events delivered%5)%6\n")
                                      .arg(w.interactive ? QStringLiteral("\r") : QString())
                                      .arg(variant.name)
                                      .arg(variant.events.delivered)
                                      .arg(variant.events.expected)
                                      .arg(scaled)
                                      .arg(w.interactive ? QStringLiteral("          ") : QString()));
                         w.progressShown = false;
                     });
    QObject::connect(&controller, &sim::RunController::finished, &loop, [&](const metrics::RunResult &r) {
        w.result = r;
        loop.quit();
    });
    QObject::connect(&controller, &sim::RunController::failed, &loop, [&](const QString &reason) {
        if (w.progressShown)
            printErr(QStringLiteral("\n"));
        printErr(QStringLiteral("edgesse run: %1\n").arg(reason));
        w.exitCode = kExitRunFailed;
        loop.quit();
    });
    QObject::connect(&controller, &sim::RunController::cancelled, &loop, [&] {
        if (w.exitCode == kExitOk)
            w.exitCode = kExitInterrupted;
        loop.quit();
    });
}

} // namespace

int runCommand(const QStringList &args)
{
    QString error;
    auto parsed = parseRunArguments(args, /*allowOut=*/true, /*allowSeed=*/true, &error);
    if (parsed && !parsed->tlsCert.isEmpty()) {
        error = QStringLiteral("--tls-cert/--tls-key are for serve (a run makes its own throw-away certificate)");
        parsed.reset();
    }
    if (!parsed) {
        printErr(QStringLiteral("edgesse run: %1\nUsage: edgesse run FILE [--out DIR] [--variant NAME]... "
                                "[--duration D] [--seed N] [--time-scale N|auto] [--tolerance D]\n").arg(error));
        return kExitInvalidInput;
    }
    const auto loaded = loadScenarioReporting(parsed->file);
    if (!loaded)
        return kExitInvalidInput;
    const scenario::Scenario &scenario = *loaded;
    for (const QString &name : parsed->variants) {
        if (!scenario.variant(name)) {
            reportUnknownVariant(QStringLiteral("run"), parsed->file, scenario, name);
            return kExitInvalidInput;
        }
    }
    const QString outDir = parsed->outDir.isEmpty()
        ? QDir(QStringLiteral("out")).filePath(QFileInfo(parsed->file).completeBaseName())
        : parsed->outDir;

    const QStringList outputNames = metrics::resultFileNames() + charts::chartFileNames();
    const QString outError = io::checkOutputDirectory(outDir, outputNames);
    if (!outError.isEmpty()) {
        printErr(QStringLiteral("edgesse run: --out: %1\n").arg(outError));
        return kExitInvalidInput;
    }

    sim::RunOptions options;
    if (parsed->duration)
        options.duration = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed->duration);
    options.seed = parsed->seed;
    options.outputDirectory = outDir;
    options.timeScale = parsed->timeScale;
    options.autoTimeScale = parsed->autoTimeScale;
    options.toleranceMs = parsed->toleranceMs.value_or(options.toleranceMs);
    if (options.timeScale > 1.0 && !options.autoTimeScale)
        reportTimeScale(scenario, parsed->variants, options);

    sim::RunController controller;
    SignalWatcher watcher;
    QEventLoop loop;
    RunWatch w;
    w.interactive = ::isatty(::fileno(stderr)) == 1;
    watchRun(controller, watcher, loop, options, w);

    controller.start(scenario, parsed->variants, options);
    loop.exec();
    if (!w.result)
        return w.exitCode == kExitOk ? kExitRunFailed : w.exitCode;
    std::optional<metrics::RunResult> &result = w.result;

    result->scenarioFile = QFileInfo(parsed->file).fileName();
    QFile scenarioFile(parsed->file);
    runs::describeScenario(*result, scenario,
                           scenarioFile.open(QIODevice::ReadOnly) ? QString::fromUtf8(scenarioFile.readAll()) : QString());
    std::fputs(summaryTable(*result).toLocal8Bit().constData(), stdout);
    std::fflush(stdout);

    return writeOutputs(*result, outDir, outputNames);
}

} // namespace edgesse::cli
