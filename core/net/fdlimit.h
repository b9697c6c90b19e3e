#pragma once

#include <QString>
#include <cstdint>

namespace edgesse::net {

// The process's RLIMIT_NOFILE. Each proxied connection costs about
// kDescriptorsPerProxiedConnection descriptors (client socket, proxy accept side,
// proxy upstream side, server socket).
struct FdLimit {
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
};

inline constexpr std::uint64_t kDescriptorsPerProxiedConnection = 4;
// Descriptors the process uses besides the topology's connections (Qt, listeners, files).
inline constexpr std::uint64_t kDescriptorReserve = 256;

FdLimit currentFdLimit();

// Descriptors a topology needs: proxied connections (through a link), direct loopback
// connections (both ends in this process: 2 each), listening sockets, plus the reserve.
std::uint64_t descriptorsNeeded(std::uint64_t proxiedConnections, std::uint64_t directConnections, std::uint64_t listeners);

// Raises the soft limit to the hard one; returns the limit now in force.
FdLimit raiseFdLimitToHard();

// Empty when `needed` descriptors fit the current soft limit; otherwise a message that
// names how many are needed, how many are allowed and how to get more.
QString checkDescriptorBudget(std::uint64_t needed);

} // namespace edgesse::net
