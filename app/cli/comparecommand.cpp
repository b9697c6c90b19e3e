#include "app/cli/cli.h"
#include "app/cli/clioptions.h"
#include "app/cli/commands.h"
#include "app/runs/comparison.h"
#include "core/metrics/runresult.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>

#include <cstdio>

namespace edgesse::cli {

namespace {

const char kCompareUsage[] = "Usage: edgesse compare A/results.json B/results.json... [--baseline NAME]\n";
const char kMergeUsage[] = "Usage: edgesse merge OUT a.json b.json...\n";

// A results.json read whole; on a problem the message names the file and what is wrong.
std::optional<metrics::RunResult> readResults(const QString &path, const QString &command)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        printErr(QStringLiteral("edgesse %1: %2: %3\n").arg(command, path, file.errorString()));
        return std::nullopt;
    }
    QString error;
    auto result = metrics::RunResult::fromJsonBytes(file.readAll(), &error);
    if (!result)
        printErr(QStringLiteral("edgesse %1: %2: not a results.json EdgeSSE can read: %3\n").arg(command, path, error));
    return result;
}

} // namespace

int compareCommand(const QStringList &args)
{
    QStringList files;
    QString baseline;
    for (qsizetype i = 0; i < args.size(); ++i) {
        if (args.at(i) == QLatin1String("--baseline")) {
            if (i + 1 >= args.size()) {
                printErr(QStringLiteral("edgesse compare: --baseline needs a variant name\n") + QLatin1String(kCompareUsage));
                return kExitInvalidInput;
            }
            baseline = args.at(++i);
        } else if (args.at(i).startsWith(QLatin1Char('-'))) {
            printErr(QStringLiteral("edgesse compare: unknown option '%1'\n").arg(args.at(i)) + QLatin1String(kCompareUsage));
            return kExitInvalidInput;
        } else {
            files << args.at(i);
        }
    }
    if (files.isEmpty()) {
        printErr(QStringLiteral("edgesse compare: name at least one results.json\n") + QLatin1String(kCompareUsage));
        return kExitInvalidInput;
    }
    QList<metrics::RunResult> runs;
    for (const QString &file : files) {
        auto result = readResults(file, QStringLiteral("compare"));
        if (!result)
            return kExitInvalidInput;
        runs << *result;
    }
    runs::Comparison comparison = runs::compare(runs);
    if (!baseline.isEmpty()) {
        comparison.baseline = comparison.indexOf(baseline);
        if (comparison.baseline < 0) {
            QStringList names;
            for (const runs::Entry &e : comparison.entries)
                names << e.label;
            printErr(QStringLiteral("edgesse compare: no variant named \"%1\" to take as the baseline (there are: %2)\n")
                         .arg(baseline, names.join(QStringLiteral(", "))));
            return kExitInvalidInput;
        }
    }
    std::fputs(runs::comparisonText(comparison).toUtf8().constData(), stdout);
    std::fflush(stdout);
    return kExitOk;
}

int mergeCommand(const QStringList &args)
{
    if (args.size() < 2 || args.first().startsWith(QLatin1Char('-'))) {
        printErr(QStringLiteral("edgesse merge: name the output file and at least one results.json\n") +
                 QLatin1String(kMergeUsage));
        return kExitInvalidInput;
    }
    QString out = args.first();
    if (QFileInfo(out).isDir())
        out = QDir(out).filePath(QStringLiteral("results.json"));
    const QStringList files = args.mid(1);
    QList<metrics::RunResult> results;
    for (const QString &file : files) {
        if (QFileInfo(file).absoluteFilePath() == QFileInfo(out).absoluteFilePath()) {
            printErr(QStringLiteral("edgesse merge: %1 is both an input and the output; write the merge elsewhere\n").arg(out));
            return kExitInvalidInput;
        }
        auto result = readResults(file, QStringLiteral("merge"));
        if (!result)
            return kExitInvalidInput;
        results << *result;
    }
    QString error;
    const auto merged = runs::merge(results, files, &error);
    if (!merged) {
        printErr(QStringLiteral("edgesse merge: %1\n").arg(error));
        return kExitInvalidInput;
    }
    QSaveFile file(out);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(merged->toJson()).toJson(QJsonDocument::Indented)) < 0
        || !file.commit()) {
        printErr(QStringLiteral("edgesse merge: cannot write %1: %2\n").arg(out, file.errorString()));
        return kExitRunFailed;
    }
    printErr(QStringLiteral("merged %1 variants from %2 files into %3\n")
                 .arg(merged->variants.size())
                 .arg(files.size())
                 .arg(QDir::toNativeSeparators(out)));
    return kExitOk;
}

} // namespace edgesse::cli
