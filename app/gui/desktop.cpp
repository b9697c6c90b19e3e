#include "app/gui/desktop.h"

#include <cstdio>

namespace edgesse::gui {

int runDesktop(int, char *[])
{
    std::fputs("edgesse: the desktop app is not available in this build yet; try 'edgesse --help'\n", stderr);
    return 1;
}

} // namespace edgesse::gui
