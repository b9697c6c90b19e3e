#include "core/net/tcplistener.h"

#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace edgesse::net {

namespace {

constexpr int kAcceptsPerWakeup = 64;

socklen_t toSockaddr(const QHostAddress &address, quint16 port, sockaddr_storage &storage)
{
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &bytes, sizeof bytes);
        return sizeof *in6;
    }
    auto *in4 = reinterpret_cast<sockaddr_in *>(&storage);
    in4->sin_family = AF_INET;
    in4->sin_port = htons(port);
    in4->sin_addr.s_addr = htonl(address.isNull() ? INADDR_LOOPBACK : address.toIPv4Address());
    return sizeof *in4;
}

} // namespace

TcpListener::TcpListener(Accepted accepted, Paused paused, QObject *parent)
    : QObject(parent), m_accepted(std::move(accepted)), m_paused(std::move(paused)), m_resume(new QTimer(this))
{
    m_resume->setSingleShot(true);
    connect(m_resume, &QTimer::timeout, this, [this] {
        if (m_notifier)
            m_notifier->setEnabled(true);
    });
}

TcpListener::~TcpListener()
{
    close();
}

bool TcpListener::listen(const QHostAddress &address, quint16 port, int backlog)
{
    close();
    m_error.clear();
    sockaddr_storage storage{};
    const socklen_t length = toSockaddr(address, port, storage);
    const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        m_error = QString::fromLocal8Bit(std::strerror(errno));
        return false;
    }
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<const sockaddr *>(&storage), length) != 0 || ::listen(fd, backlog) != 0) {
        m_error = QString::fromLocal8Bit(std::strerror(errno));
        ::close(fd);
        return false;
    }
    sockaddr_storage bound{};
    socklen_t boundLength = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&bound), &boundLength);
    m_port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<const sockaddr_in6 *>(&bound)->sin6_port)
                                         : ntohs(reinterpret_cast<const sockaddr_in *>(&bound)->sin_port);
    m_fd = fd;
    m_notifier = new QSocketNotifier(static_cast<qintptr>(fd), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &TcpListener::onReadable);
    return true;
}

void TcpListener::close()
{
    m_resume->stop();
    delete m_notifier; // before the descriptor goes
    m_notifier = nullptr;
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

void TcpListener::onReadable()
{
    for (int i = 0; i < kAcceptsPerWakeup && m_fd >= 0; ++i) {
        const int fd = ::accept4(m_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            m_backoff.accepted();
            m_accepted(fd);
            continue;
        }
        const int error = errno;
        const AcceptBackoff::Next next = m_backoff.failed(error);
        if (next == AcceptBackoff::Next::Retry)
            continue;
        if (next == AcceptBackoff::Next::Pause) {
            m_notifier->setEnabled(false);
            m_resume->start(m_backoff.pauseFor());
            if (m_backoff.firstOfEpisode() && m_paused)
                m_paused(AcceptBackoff::describe(error));
        }
        return;
    }
}

} // namespace edgesse::net
