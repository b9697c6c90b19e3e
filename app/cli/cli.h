#pragma once

#include <optional>

namespace edgesse::cli {

// Exit codes of the headless commands (documented in the README).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRunFailed = 1;     // the run could not be completed (port, descriptors, ...)
inline constexpr int kExitInvalidInput = 2;  // bad command line or invalid scenario
inline constexpr int kExitInterrupted = 130; // SIGINT/SIGTERM before the end

// Runs the headless command argv names (validate, run, serve, help, version) and returns
// its exit code; std::nullopt when argv names none, so the desktop app starts instead.
std::optional<int> runIfCommand(int argc, char *argv[]);

} // namespace edgesse::cli
