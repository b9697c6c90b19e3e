#include "app/cli/cli.h"
#include "app/cli/commands.h"

#include <cstdio>

namespace edgesse::cli {

int serveCommand(const QStringList &)
{
    std::fputs("edgesse serve: not available in this build yet\n", stderr);
    return kExitRunFailed;
}

} // namespace edgesse::cli
