#pragma once

#include <QHostAddress>
#include <QObject>
#include <QString>

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <functional>

class QSocketNotifier;

namespace edgesse::quic {

// A socket address as the kernel and ngtcp2 take it.
struct SocketAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;

    const sockaddr *get() const { return reinterpret_cast<const sockaddr *>(&storage); }
    sockaddr *get() { return reinterpret_cast<sockaddr *>(&storage); }
    static SocketAddress from(const QHostAddress &address, quint16 port);
    QHostAddress host() const;
    quint16 port() const;
    bool operator==(const SocketAddress &other) const;
};

// A non-blocking UDP socket read through a QSocketNotifier on its owner's thread. Each
// wake-up reads at most kMaxPerWakeup datagrams (the rest on the next pass, so a flood
// cannot starve the thread's other events) into one fixed buffer: a datagram costs no
// allocation, and one larger than kMaxDatagramBytes is truncated by the kernel and handed
// on as such (QUIC rejects it). Used from its owner's thread only.
class UdpSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(UdpSocket)

public:
    static constexpr int kMaxPerWakeup = 256;
    static constexpr std::size_t kMaxDatagramBytes = 65527;
    using Receiver = std::function<void(const SocketAddress &from, const std::uint8_t *data, std::size_t size)>;

    explicit UdpSocket(QObject *parent = nullptr);
    ~UdpSocket() override;

    // Binds (port 0: any free one). False with `error` naming the cause.
    bool bind(const QHostAddress &address, quint16 port, QString *error);
    // Binds `local` (null: the loopback or any address of the remote's family) and connects.
    bool connectTo(const SocketAddress &remote, const QHostAddress &local, QString *error);
    void setReceiver(Receiver receiver) { m_receiver = std::move(receiver); }
    // False when the kernel would not take it (buffer full, unreachable): the datagram is
    // lost, as on a network; QUIC's recovery resends what it carried.
    bool sendTo(const SocketAddress &to, const std::uint8_t *data, std::size_t size);
    bool send(const std::uint8_t *data, std::size_t size);
    const SocketAddress &localAddress() const { return m_local; }
    quint16 port() const { return m_local.port(); }
    void close();

private:
    bool open(int family, QString *error);
    void readPending();

    int m_fd = -1;
    QSocketNotifier *m_notifier = nullptr;
    SocketAddress m_local;
    Receiver m_receiver;
};

} // namespace edgesse::quic
