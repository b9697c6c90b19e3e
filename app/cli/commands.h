#pragma once

#include <QStringList>

// One function per headless command. `args` are the words after the command name; the
// application object (QCoreApplication, or QApplication for commands that render charts)
// exists already. Each returns an exit code from cli.h.
namespace edgesse::cli {

int validateCommand(const QStringList &args);
int runCommand(const QStringList &args);
int serveCommand(const QStringList &args);
int compareCommand(const QStringList &args); // results.json files side by side, against a baseline
int mergeCommand(const QStringList &args);   // variant results run apart, as one results.json

} // namespace edgesse::cli
