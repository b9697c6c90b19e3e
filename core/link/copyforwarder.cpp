#include "core/link/copyforwarder.h"

#include <algorithm>
#include <cerrno>

#include <sys/socket.h>
#include <sys/uio.h>

namespace edgesse::link {

CopyForwarder::Result CopyForwarder::flush(int fd, TimePoint now, Written &written)
{
    written = {};
    while (!m_queue.empty() && m_queue.front().release <= now) {
        if (m_queue.front().fin) {
            const bool reset = m_queue.front().reset;
            m_queue.popFin();
            if (reset)
                return Result::Reset;
            ::shutdown(fd, SHUT_WR);
            return Result::Fin;
        }
        iovec iov[2];
        int count = 0;
        const std::size_t total = m_queue.released(now, iov, count);
        if (total == 0)
            return Result::Idle;
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = static_cast<decltype(message.msg_iovlen)>(count);
        const ssize_t n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return Result::Blocked;
            m_error = errno;
            return Result::Error;
        }
        const auto bytes = static_cast<std::size_t>(n);
        written.intended = std::max(written.intended, m_queue.consume(bytes));
        written.bytes += bytes;
        if (bytes < total)
            return Result::Blocked;
    }
    return Result::Idle;
}

} // namespace edgesse::link
