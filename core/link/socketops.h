#pragma once

#include <QHostAddress>
#include <QString>

#include <atomic>
#include <cstdint>

#include <sys/socket.h>

namespace edgesse::link::detail {

// Counters have one writer (the link's thread); readers on other threads only load.
inline void add(std::atomic<std::uint64_t> &counter, std::uint64_t n)
{
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}
inline void subtract(std::atomic<std::uint64_t> &counter, std::uint64_t n)
{
    counter.store(counter.load(std::memory_order_relaxed) - n, std::memory_order_relaxed);
}

socklen_t toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage &storage);
QString errnoText(int error);
// No Nagle delay on top of the link's own timing; receive timestamps on.
void tuneSocket(int fd);
void closeWithReset(int fd);

} // namespace edgesse::link::detail
