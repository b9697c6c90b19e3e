#include "app/cli/cli.h"
#include "app/cli/commands.h"

#include <cstdio>

namespace edgesse::cli {

int runCommand(const QStringList &)
{
    std::fputs("edgesse run: not available in this build yet\n", stderr);
    return kExitRunFailed;
}

} // namespace edgesse::cli
