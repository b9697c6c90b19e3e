#pragma once

namespace edgesse::gui {

// Starts the desktop app (QApplication, main window, files named on the command line)
// and returns its exit code.
int runDesktop(int argc, char *argv[]);

} // namespace edgesse::gui
