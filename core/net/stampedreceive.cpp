#include "core/net/stampedreceive.h"

#include <cstring>
#include <ctime>

#include <sys/socket.h>
#include <sys/uio.h>

namespace edgesse::net {

using namespace std::chrono_literals;

void enableReceiveTimestamps(int fd)
{
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
}

ssize_t receiveStamped(int fd, char *buffer, std::size_t size, std::chrono::steady_clock::time_point &arrival)
{
    iovec iov{buffer, size};
    alignas(cmsghdr) char control[64];
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd, &message, 0);
    if (n <= 0)
        return n;
    const auto now = std::chrono::steady_clock::now();
    arrival = now;
    if (message.msg_controllen < sizeof(cmsghdr))
        return n;
    cmsghdr header{};
    std::memcpy(&header, control, sizeof header);
    constexpr std::size_t kDataOffset = (sizeof(cmsghdr) + alignof(std::size_t) - 1) & ~(alignof(std::size_t) - 1);
    if (header.cmsg_level != SOL_SOCKET || header.cmsg_type != SCM_TIMESTAMPNS || header.cmsg_len < kDataOffset + sizeof(timespec))
        return n;
    timespec stamp{};
    std::memcpy(&stamp, control + kDataOffset, sizeof stamp);
    timespec realNow{};
    ::clock_gettime(CLOCK_REALTIME, &realNow);
    const auto age = std::chrono::seconds{realNow.tv_sec - stamp.tv_sec} + std::chrono::nanoseconds{realNow.tv_nsec - stamp.tv_nsec};
    if (age > 0ns && age < 1s)
        arrival = now - std::chrono::duration_cast<std::chrono::steady_clock::duration>(age);
    return n;
}

} // namespace edgesse::net
