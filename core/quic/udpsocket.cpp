#include "core/quic/udpsocket.h"

#include <QSocketNotifier>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace edgesse::quic {

SocketAddress SocketAddress::from(const QHostAddress &address, quint16 port)
{
    SocketAddress a;
    if (address.protocol() == QAbstractSocket::IPv6Protocol) {
        auto *in6 = reinterpret_cast<sockaddr_in6 *>(&a.storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        const Q_IPV6ADDR bytes = address.toIPv6Address();
        std::memcpy(&in6->sin6_addr, &bytes, sizeof(in6->sin6_addr));
        a.length = sizeof(sockaddr_in6);
    } else {
        auto *in4 = reinterpret_cast<sockaddr_in *>(&a.storage);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        in4->sin_addr.s_addr = htonl(address.isNull() ? INADDR_ANY : address.toIPv4Address());
        a.length = sizeof(sockaddr_in);
    }
    return a;
}

QHostAddress SocketAddress::host() const
{
    return QHostAddress(get());
}

quint16 SocketAddress::port() const
{
    if (storage.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6 *>(&storage)->sin6_port);
    if (storage.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in *>(&storage)->sin_port);
    return 0;
}

bool SocketAddress::operator==(const SocketAddress &other) const
{
    return length == other.length && std::memcmp(&storage, &other.storage, length) == 0;
}

UdpSocket::UdpSocket(QObject *parent) : QObject(parent) {}

UdpSocket::~UdpSocket()
{
    close();
}

bool UdpSocket::open(int family, QString *error)
{
    m_fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (m_fd < 0) {
        *error = QStringLiteral("cannot open a UDP socket: %1%2")
                     .arg(QString::fromLocal8Bit(std::strerror(errno)),
                          errno == EMFILE ? QStringLiteral(" (raise the open-file limit: ulimit -n)") : QString());
        return false;
    }
    // Room for a burst of a fan-out or a flood between two wake-ups; the kernel caps it.
    const int bytes = 4 * 1024 * 1024;
    (void)::setsockopt(m_fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    (void)::setsockopt(m_fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    return true;
}

bool UdpSocket::bind(const QHostAddress &address, quint16 port, QString *error)
{
    const SocketAddress local = SocketAddress::from(address, port);
    if (!open(local.storage.ss_family, error))
        return false;
    if (::bind(m_fd, local.get(), local.length) != 0) {
        *error = QStringLiteral("cannot bind UDP %1:%2: %3%4")
                     .arg(address.toString())
                     .arg(port)
                     .arg(QString::fromLocal8Bit(std::strerror(errno)),
                          errno == EADDRINUSE ? QStringLiteral(" (choose another port, or 0 for any free one)") : QString());
        close();
        return false;
    }
    m_local.length = sizeof(m_local.storage);
    ::getsockname(m_fd, m_local.get(), &m_local.length);
    m_notifier = new QSocketNotifier(m_fd, QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UdpSocket::readPending);
    return true;
}

bool UdpSocket::connectTo(const SocketAddress &remote, const QHostAddress &local, QString *error)
{
    const bool v6 = remote.storage.ss_family == AF_INET6;
    const QHostAddress any = v6 ? QHostAddress(QHostAddress::AnyIPv6) : QHostAddress(QHostAddress::AnyIPv4);
    if (!bind(local.isNull() ? any : local, 0, error))
        return false;
    if (::connect(m_fd, remote.get(), remote.length) != 0) {
        *error = QStringLiteral("cannot reach %1:%2 over UDP: %3")
                     .arg(remote.host().toString())
                     .arg(remote.port())
                     .arg(QString::fromLocal8Bit(std::strerror(errno)));
        close();
        return false;
    }
    m_local.length = sizeof(m_local.storage);
    ::getsockname(m_fd, m_local.get(), &m_local.length);
    return true;
}

bool UdpSocket::sendTo(const SocketAddress &to, const std::uint8_t *data, std::size_t size)
{
    if (m_fd < 0)
        return false;
    ssize_t n = 0;
    do {
        n = ::sendto(m_fd, data, size, 0, to.get(), to.length);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(size);
}

bool UdpSocket::send(const std::uint8_t *data, std::size_t size)
{
    if (m_fd < 0)
        return false;
    ssize_t n = 0;
    do {
        n = ::send(m_fd, data, size, 0);
    } while (n < 0 && errno == EINTR);
    return n == static_cast<ssize_t>(size);
}

void UdpSocket::readPending()
{
    static thread_local std::vector<std::uint8_t> buffer(kMaxDatagramBytes);
    SocketAddress from;
    for (int i = 0; i < kMaxPerWakeup && m_fd >= 0; ++i) {
        from.length = sizeof(from.storage);
        const ssize_t n = ::recvfrom(m_fd, buffer.data(), buffer.size(), 0, from.get(), &from.length);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return; // EAGAIN, or an ICMP error reported for an earlier send
        }
        if (m_receiver)
            m_receiver(from, buffer.data(), static_cast<std::size_t>(n));
    }
}

void UdpSocket::close()
{
    delete m_notifier;
    m_notifier = nullptr;
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
}

} // namespace edgesse::quic
