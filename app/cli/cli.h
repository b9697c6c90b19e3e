#pragma once

#include <optional>

namespace edgesse::cli {

// Exit codes of the headless commands (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;     // the run could not be completed (port, descriptors, ...)
inline constexpr int kExitInvalidInput = 2;  // bad command line or invalid scenario
inline constexpr int kExitInterrupted = 130; // SIGINT/SIGTERM before the end

// Without XDG_RUNTIME_DIR (root in a container, a CI job) Qt picks /tmp/runtime-USER and
// prints a warning on every start. This makes the same private directory (0700, ours) and
// names it in the environment, so the warning goes; when that cannot be done safely it
// leaves the variable unset and Qt's own fallback stands.
void provideRuntimeDir();

// Runs the headless command argv names (validate, run, serve, compare, merge, help, version)
// and returns its exit code; std::nullopt when argv names none but a file to open (or
// nothing), so the desktop app starts instead. An unknown command word or option gets its
// name and the usage on stderr, exit 2.
std::optional<int> runIfCommand(int argc, char *argv[]);

// Before the desktop app starts: when there is no display to show it on (and Qt would abort
// in its platform plugin), one line on stderr naming the headless commands, and exit 2.
std::optional<int> refuseWithoutDisplay();

} // namespace edgesse::cli
