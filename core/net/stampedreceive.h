#pragma once

#include <chrono>
#include <cstddef>

#include <sys/types.h>

namespace edgesse::net {

// Kernel receive timestamps: with them, a read that comes late does not make the bytes late.
// Timing code (a link scheduling each byte from its arrival, a benchmark measuring when a
// link delivered) reads with receiveStamped() instead of recv().

// Asks the kernel to stamp every packet this socket receives (SO_TIMESTAMPNS).
void enableReceiveTimestamps(int fd);

// Reads like recv(fd, buffer, size, 0). When it read bytes, `arrival` becomes when the kernel
// received them (the latest of them), mapped from its CLOCK_REALTIME stamp onto steady_clock;
// the time of the read when the socket carries no stamp or a wall-clock step makes it
// meaningless.
ssize_t receiveStamped(int fd, char *buffer, std::size_t size, std::chrono::steady_clock::time_point &arrival);

} // namespace edgesse::net
