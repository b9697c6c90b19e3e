#include "core/net/acceptbackoff.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace edgesse::net {

AcceptBackoff::Next AcceptBackoff::failed(int error)
{
    switch (error) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return Next::Drained;
    // A connection that died in the queue, or network errors accept4() passes on (Linux):
    // the listener itself is fine.
    case EINTR:
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
        return Next::Retry;
    default:
        break;
    }
    m_firstOfEpisode = !m_inEpisode;
    m_pause = m_inEpisode ? std::min(2 * m_pause, kLongestPause) : kFirstPause;
    m_inEpisode = true;
    return Next::Pause;
}

void AcceptBackoff::accepted()
{
    m_inEpisode = false;
    m_firstOfEpisode = false;
    m_pause = std::chrono::milliseconds(0);
}

QString AcceptBackoff::describe(int error)
{
    QString text = QString::fromLocal8Bit(std::strerror(error));
    if (error == EMFILE || error == ENFILE)
        return text + QStringLiteral(" (raise the file-descriptor limit: ulimit -n)");
    if (error == ENOBUFS || error == ENOMEM)
        return text + QStringLiteral(" (the kernel is short of memory for sockets)");
    return text;
}

} // namespace edgesse::net
