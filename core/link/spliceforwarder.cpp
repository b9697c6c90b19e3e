#include "core/link/spliceforwarder.h"

#include <cerrno>
#include <initializer_list>

#include <fcntl.h>
#include <unistd.h>

namespace edgesse::link {

bool SpliceForwarder::open(int pipeBytes)
{
    int fds[2];
    if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    m_read = fds[0];
    m_write = fds[1];
    ::fcntl(m_write, F_SETPIPE_SZ, pipeBytes);
    const int capacity = ::fcntl(m_write, F_GETPIPE_SZ);
    m_capacity = capacity > 0 ? static_cast<std::size_t>(capacity) : 0;
    if (m_capacity == 0)
        close();
    return m_capacity > 0;
}

void SpliceForwarder::close()
{
    for (int *fd : {&m_read, &m_write}) {
        if (*fd >= 0)
            ::close(*fd);
        *fd = -1;
    }
    m_capacity = 0;
}

std::size_t SpliceForwarder::discard()
{
    const std::size_t held = m_held;
    m_held = 0;
    return held;
}

SpliceForwarder::Result SpliceForwarder::in(int fromFd, std::size_t &moved)
{
    moved = 0;
    const ssize_t n = ::splice(fromFd, nullptr, m_write, nullptr, m_capacity - m_held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
        moved = static_cast<std::size_t>(n);
        m_held += moved;
        return Result::Moved;
    }
    if (n == 0)
        return Result::End;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return Result::WouldBlock;
    m_error = errno;
    return Result::Error;
}

SpliceForwarder::Result SpliceForwarder::out(int toFd, std::size_t &moved)
{
    moved = 0;
    while (m_held > 0) {
        const ssize_t n = ::splice(m_read, nullptr, toFd, nullptr, m_held, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (n > 0) {
            m_held -= static_cast<std::size_t>(n);
            moved += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return Result::WouldBlock;
        m_error = n < 0 ? errno : EPIPE;
        return Result::Error;
    }
    return Result::Moved;
}

} // namespace edgesse::link
