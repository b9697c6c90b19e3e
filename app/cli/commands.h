#pragma once

#include <QStringList>

// One function per headless command. `args` are the words after the command name; the
// application object (QCoreApplication, or QApplication for commands that render charts)
// exists already. Each returns an exit code from cli.h.
namespace edgesse::cli {

int validateCommand(const QStringList &args);
int runCommand(const QStringList &args);
int serveCommand(const QStringList &args);

} // namespace edgesse::cli
