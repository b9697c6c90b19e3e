#include "app/cli/cli.h"
#include "app/cli/commands.h"
#include "core/net/fdlimit.h"
#include "core/scenario/scenario.h"

#include <QFileInfo>

#include <cstdio>

namespace edgesse::cli {

namespace {

// "edge-vs-central.yaml: Edge vs central — 2 variants (central, edge), 3 client groups, 400 browsers, 400 streams"
QString summary(const scenario::Scenario &s)
{
    QStringList names;
    qint64 maxBrowsers = 0;
    qint64 maxStreams = 0;
    qsizetype groups = 0;
    for (const scenario::Variant &v : s.variants) {
        names << v.name;
        maxBrowsers = std::max(maxBrowsers, v.totalBrowsers());
        maxStreams = std::max(maxStreams, v.totalStreams());
        groups = std::max(groups, v.clients.size());
    }
    constexpr qsizetype kNamesShown = 6;
    QString shown = names.mid(0, kNamesShown).join(QStringLiteral(", "));
    if (names.size() > kNamesShown)
        shown += QStringLiteral(", …");
    return QStringLiteral("%1: %2 — %3 variant%4 (%5), %6 client group%7, %8 browsers, %9 streams")
        .arg(s.file, s.name)
        .arg(s.variants.size())
        .arg(s.variants.size() == 1 ? QString() : QStringLiteral("s"), shown)
        .arg(groups)
        .arg(groups == 1 ? QString() : QStringLiteral("s"))
        .arg(maxBrowsers)
        .arg(maxStreams);
}

} // namespace

int validateCommand(const QStringList &args)
{
    if (args.isEmpty()) {
        std::fputs("edgesse validate: no file given\nUsage: edgesse validate FILE...\n", stderr);
        return kExitInvalidInput;
    }
    // A run raises the soft descriptor limit to the hard one before it starts; judge the
    // descriptor budget against the same limit.
    net::raiseFdLimitToHard();
    bool allValid = true;
    for (const QString &path : args) {
        const scenario::LoadResult result = scenario::load(path);
        if (!result.ok()) {
            allValid = false;
            for (const scenario::Diagnostic &d : result.diagnostics)
                std::fprintf(stderr, "%s\n", d.toString().toUtf8().constData());
            continue;
        }
        std::fprintf(stdout, "%s\n", summary(*result.scenario).toUtf8().constData());
    }
    std::fflush(stdout);
    return allValid ? kExitOk : kExitInvalidInput;
}

} // namespace edgesse::cli
