#include "app/cli/cli.h"
#include "app/cli/commands.h"

#include <cstdio>

namespace edgesse::cli {

int validateCommand(const QStringList &)
{
    std::fputs("edgesse validate: not available in this build yet\n", stderr);
    return kExitRunFailed;
}

} // namespace edgesse::cli
