#include "core/net/fdlimit.h"

#include <sys/resource.h>

namespace edgesse::net {

FdLimit currentFdLimit()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return {};
    return {static_cast<std::uint64_t>(limit.rlim_cur), static_cast<std::uint64_t>(limit.rlim_max)};
}

std::uint64_t descriptorsNeeded(std::uint64_t proxiedConnections, std::uint64_t directConnections, std::uint64_t listeners)
{
    return proxiedConnections * kDescriptorsPerProxiedConnection + directConnections * 2 + listeners + kDescriptorReserve;
}

FdLimit raiseFdLimitToHard()
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
    return currentFdLimit();
}

QString checkDescriptorBudget(std::uint64_t needed)
{
    const FdLimit limit = currentFdLimit();
    if (needed <= limit.soft)
        return {};
    QString fix;
    if (needed <= limit.hard)
        fix = QStringLiteral("raise the soft limit (ulimit -n %1)").arg(limit.hard);
    else
        fix = QStringLiteral("raise the hard limit to at least %1 (ulimit -Hn, /etc/security/limits.conf) "
                             "or reduce client counts or streams")
                  .arg(needed);
    return QStringLiteral("the scenario needs about %1 file descriptors but this process may open %2 "
                          "(hard limit %3); %4")
        .arg(needed)
        .arg(limit.soft)
        .arg(limit.hard)
        .arg(fix);
}

} // namespace edgesse::net
