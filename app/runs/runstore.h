#pragma once

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"

#include <QList>
#include <QString>
#include <QStringList>

// Runs kept as documents: every run the app makes is written, as its results.json, into a
// folder of its own under the scenario's results folder, named by its start time and
// variants (SCENARIO-results/runs/2026-12-01_10-15-02_central+edge/results.json); a second run
// in the same second is numbered after the time (2026-12-01_10-15-02.2_central+edge).
namespace edgesse::runs {

// Fills what results.json says about the scenario the run came from: its question, its
// text and every variant it has (a variant's colour follows its place in that list).
void describeScenario(metrics::RunResult &result, const scenario::Scenario &scenario, const QString &text);

// The folder the runs of `scenarioPath` are kept in; for an unsaved scenario, one under
// `fallbackRoot`.
QString runsFolderFor(const QString &scenarioPath, const QString &fallbackRoot);

struct StoredRun
{
    QString file;        // …/results.json
    QString startedAt;   // "2026-12-01 10:15:02", from the folder name
    QStringList variants;
};

// Writes `result` into a new folder under `runsFolder`; returns its results.json, or an
// empty string and `error` naming the file and why. The two halves of it:
QString storeRun(const metrics::RunResult &result, const QString &runsFolder, QString *error = nullptr);
// makes the run's new folder (at once: the next run's name depends on it) and returns the
// results.json to write there, or an empty string and `error`;
QString newRunFile(const metrics::RunResult &result, const QString &runsFolder, QString *error = nullptr);
// writes `result` as `path`, atomically (safe on any thread); false and `error` on failure.
bool writeRunFile(const metrics::RunResult &result, const QString &path, QString *error = nullptr);

// The runs kept in `runsFolder`, oldest first, with the variants their folder names list (a
// name that cannot say them whole, cut at its length limit, is read from its file).
QList<StoredRun> storedRuns(const QString &runsFolder);

// Whether `bytes` look like a results.json rather than a scenario (a JSON object with
// "tool" and "variants").
bool looksLikeResults(const QByteArray &bytes);

} // namespace edgesse::runs
