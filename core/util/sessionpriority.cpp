#include "core/util/sessionpriority.h"

#include <cstdio>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace edgesse::util {

namespace {

// Absent when the kernel schedules without autogroups: then nice alone orders the threads.
bool raiseAutogroup(const char *path)
{
    const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char nice[8];
    const int length = std::snprintf(nice, sizeof nice, "%d", kRaisedNice);
    const bool ok = ::write(fd, nice, static_cast<std::size_t>(length)) == length;
    ::close(fd);
    return ok;
}

} // namespace

bool runAheadOfOtherSessions()
{
    if (::geteuid() != 0)
        return false;
    if (::setsid() < 0 && ::getsid(0) != ::getpid())
        return false;
    raiseAutogroup("/proc/self/autogroup");
    return ::setpriority(PRIO_PROCESS, 0, kRaisedNice) == 0;
}

bool raiseSessionOf(long pid)
{
    if (::geteuid() != 0 || pid <= 0)
        return false;
    char path[48];
    std::snprintf(path, sizeof path, "/proc/%ld/autogroup", pid);
    return raiseAutogroup(path);
}

} // namespace edgesse::util
