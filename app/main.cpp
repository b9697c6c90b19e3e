#include "app/cli/cli.h"
#include "app/gui/desktop.h"
#include "core/net/fdlimit.h"

int main(int argc, char *argv[])
{
    edgesse::net::raiseFdLimitToHard();
    edgesse::cli::provideRuntimeDir();
    if (const auto exitCode = edgesse::cli::runIfCommand(argc, argv))
        return *exitCode;
    if (const auto exitCode = edgesse::cli::refuseWithoutDisplay())
        return *exitCode;
    return edgesse::gui::runDesktop(argc, argv);
}
