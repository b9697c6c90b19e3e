#include "core/http/httpserversocket.h"

#include <QSocketNotifier>

#include <cerrno>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace edgesse::http {

HttpServerSocket::HttpServerSocket(qintptr descriptor, QObject *parent)
    : QObject(parent), m_fd(static_cast<int>(descriptor))
{
    const int flags = ::fcntl(m_fd, F_GETFL);
    ::fcntl(m_fd, F_SETFL, flags | O_NONBLOCK);
    const int one = 1;
    ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_readNotifier = new QSocketNotifier(descriptor, QSocketNotifier::Read, this);
    connect(m_readNotifier, &QSocketNotifier::activated, this, &HttpServerSocket::onReadable);
}

HttpServerSocket::~HttpServerSocket()
{
    abort();
}

qint64 HttpServerSocket::read(char *data, qint64 maxSize)
{
    if (m_fd < 0)
        return -1;
    for (;;) {
        const ssize_t n = ::recv(m_fd, data, static_cast<size_t>(maxSize), 0);
        if (n > 0)
            return n;
        if (n == 0)
            return -1;
        if (errno == EINTR)
            continue;
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
}

qint64 HttpServerSocket::write(const char *data, qint64 size)
{
    if (m_fd < 0 || m_closing)
        return -1;
    qint64 sent = 0;
    if (m_out.size() == m_outOffset) {
        while (sent < size) {
            const ssize_t n = ::send(m_fd, data + sent, static_cast<size_t>(size - sent), MSG_NOSIGNAL);
            if (n > 0) {
                sent += n;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            return -1;
        }
    }
    if (sent < size) {
        m_out.append(data + sent, size - sent);
        if (!m_writeNotifier) {
            m_writeNotifier = new QSocketNotifier(static_cast<qintptr>(m_fd), QSocketNotifier::Write, this);
            connect(m_writeNotifier, &QSocketNotifier::activated, this, &HttpServerSocket::onWritable);
        }
        m_writeNotifier->setEnabled(true);
    }
    return size;
}

void HttpServerSocket::onWritable()
{
    while (m_out.size() > m_outOffset) {
        const ssize_t n = ::send(m_fd, m_out.constData() + m_outOffset, static_cast<size_t>(m_out.size() - m_outOffset),
                                 MSG_NOSIGNAL);
        if (n > 0) {
            m_outOffset += n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        abort();
        emit disconnected();
        return;
    }
    if (m_out.size() == m_outOffset) {
        m_out = QByteArray(); // an idle connection keeps no buffer
        m_outOffset = 0;
        m_writeNotifier->setEnabled(false);
        if (m_closing) {
            finishClosing();
            return;
        }
    } else if (m_outOffset > 64 * 1024 && m_outOffset > m_out.size() / 2) {
        m_out.remove(0, m_outOffset);
        m_outOffset = 0;
    }
    emit bytesWritten();
}

void HttpServerSocket::onReadable()
{
    if (!m_closing) {
        emit readyRead();
        return;
    }
    // Closing: input is read and dropped until the peer closes its side.
    char sink[4096];
    for (;;) {
        const qint64 n = read(sink, sizeof sink);
        if (n < 0) {
            abort();
            emit disconnected();
            return;
        }
        if (n == 0)
            return;
    }
}

void HttpServerSocket::disconnectFromHost()
{
    if (m_fd < 0 || m_closing)
        return;
    m_closing = true;
    if (m_out.size() == m_outOffset)
        finishClosing();
}

void HttpServerSocket::finishClosing()
{
    if (!m_halfClosed) {
        m_halfClosed = true;
        ::shutdown(m_fd, SHUT_WR);
    }
}

void HttpServerSocket::abort()
{
    if (m_fd < 0)
        return;
    // Notifiers go before the descriptor does.
    delete m_readNotifier;
    m_readNotifier = nullptr;
    delete m_writeNotifier;
    m_writeNotifier = nullptr;
    ::close(m_fd);
    m_fd = -1;
    m_out = QByteArray();
    m_outOffset = 0;
}

} // namespace edgesse::http
