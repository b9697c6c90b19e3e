#include "core/http/httpserversocket.h"

#include "core/tls/tlschannel.h"

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

void HttpServerSocket::startTls(const tls::TlsContext &context, const QByteArray &received)
{
    m_tls = tls::TlsChannel::server(context);
    if (!m_tls->receive(received.constData(), received.size()))
        m_rawEnded = true;
    pushTls();
}

QByteArray HttpServerSocket::alpn() const
{
    return m_tls && (m_tls->handshakeComplete() || m_tls->readingEarlyData()) ? m_tls->alpn() : QByteArray();
}

bool HttpServerSocket::hasEarlyData() const
{
    return m_tls && m_tls->readingEarlyData();
}

qint64 HttpServerSocket::read(char *data, qint64 maxSize)
{
    if (!m_tls)
        return readRaw(data, maxSize);
    if (m_tls->plaintextAvailable() == 0 && !m_rawEnded && !pullTls())
        m_rawEnded = true;
    if (m_tls->plaintextAvailable() > 0)
        return m_tls->readPlaintext(data, maxSize);
    return m_rawEnded || m_tls->peerClosed() ? -1 : 0;
}

// Reads every TLS record the kernel holds and answers what the handshake asks for.
bool HttpServerSocket::pullTls()
{
    char buffer[16 * 1024];
    for (;;) {
        const qint64 n = readRaw(buffer, sizeof buffer);
        if (n < 0) {
            pushTls();
            return false;
        }
        if (n == 0)
            break;
        if (!m_tls->receive(buffer, n)) {
            pushTls(); // the alert
            return false;
        }
    }
    return pushTls();
}

bool HttpServerSocket::pushTls()
{
    const QByteArray records = m_tls->takeCiphertext();
    return records.isEmpty() || writeRaw(records.constData(), records.size()) >= 0;
}

qint64 HttpServerSocket::readRaw(char *data, qint64 maxSize)
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
    if (!m_tls)
        return writeRaw(data, size);
    if (m_fd < 0 || m_closing || !m_tls->send(data, size) || !pushTls())
        return -1;
    return size;
}

qint64 HttpServerSocket::writeRaw(const char *data, qint64 size)
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
        const qint64 n = readRaw(sink, sizeof sink);
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
    if (m_tls) {
        m_tls->close();
        pushTls();
    }
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
