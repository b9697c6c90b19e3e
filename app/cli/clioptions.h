#pragma once

#include "core/scenario/scenario.h"

#include <QString>
#include <QStringList>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::cli {

// The words of `run` and `serve` after the command name.
struct RunArguments {
    QString file;
    QString outDir;              // run only; empty = out/<scenario file name>
    QStringList variants;        // empty = all (run) / the first (serve)
    std::optional<std::chrono::microseconds> duration;
    std::optional<std::uint64_t> seed;
    QString tlsCert;             // --tls-cert/--tls-key: the nodes' certificate (PEM); both or neither
    QString tlsKey;
    double timeScale = 1;        // run only: --time-scale N (≥ 1)
    bool autoTimeScale = false;  // run only: --time-scale auto
    std::optional<double> toleranceMs; // run only: --tolerance D (the error p99 trusted)
};

// Parses `args`; on a problem returns std::nullopt and sets `error` to a message naming the
// word and what was expected. `allowOut`/`allowSeed` select the options of each command.
std::optional<RunArguments> parseRunArguments(const QStringList &args, bool allowOut, bool allowSeed, QString *error);

// Writes `text` to stderr and flushes it.
void printErr(const QString &text);

// Loads the scenario `file`; on a problem writes every diagnostic to stderr, one a line, and
// returns std::nullopt.
std::optional<scenario::Scenario> loadScenarioReporting(const QString &file, const scenario::LoadOptions &options = {});

// Writes "edgesse COMMAND: FILE has no variant named "NAME" (it has: a, b)" to stderr.
void reportUnknownVariant(const QString &command, const QString &file, const scenario::Scenario &scenario,
                          const QString &name);

} // namespace edgesse::cli
