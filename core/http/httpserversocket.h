#pragma once

#include <QByteArray>
#include <QObject>

#include <memory>

class QSocketNotifier;

namespace edgesse::tls {
class TlsChannel;
class TlsContext;
}

namespace edgesse::http {

// An accepted TCP connection as the server needs it, on a raw non-blocking descriptor
// watched by QSocketNotifiers (so it runs on any event dispatcher). Unlike QTcpSocket in
// Qt 6.4, which buffers every TCP write and flushes it from the write notifier on a later
// loop pass and keeps 16 KB buffer blocks per socket, a write here goes to the kernel at
// once; only what the kernel does not take is kept, until the socket drains. An idle
// connection holds no buffer at all. After startTls() every read and write is plaintext
// and TLS records go to and from the descriptor underneath.
class HttpServerSocket final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HttpServerSocket)

public:
    // Takes ownership of `descriptor` (made non-blocking, TCP_NODELAY).
    explicit HttpServerSocket(qintptr descriptor, QObject *parent = nullptr);
    ~HttpServerSocket() override;

    bool isOpen() const { return m_fd >= 0; }
    // Serves TLS from here on; `received` is what was read already (the ClientHello's start).
    void startTls(const tls::TlsContext &context, const QByteArray &received);
    bool isTls() const { return m_tls != nullptr; }
    // The protocol ALPN agreed on ("h2", "http/1.1"), once the handshake is complete or the
    // client's early data accepted.
    QByteArray alpn() const;
    // TLS 1.3 early data is being read (requests before the client's Finished, answered at once).
    bool hasEarlyData() const;
    // > 0 bytes read; 0 nothing to read now; -1 end of stream or error (the peer is gone).
    qint64 read(char *data, qint64 maxSize);
    // Sends what the kernel takes now and keeps the rest; returns `size`, or -1 when the
    // connection is broken.
    qint64 write(const char *data, qint64 size);
    qint64 write(const QByteArray &bytes) { return write(bytes.constData(), bytes.size()); }
    qint64 bytesToWrite() const { return m_out.size() - m_outOffset; }
    // Sends what is queued, then half-closes and waits (discarding input) for the peer to
    // close, so that a final response is not lost to a reset; emits disconnected().
    void disconnectFromHost();
    // Closes now, dropping whatever is queued. No signal.
    void abort();

signals:
    void readyRead();
    // Queued output went out (some or all of it).
    void bytesWritten();
    // The peer closed while we were closing, or the connection broke while writing.
    void disconnected();

private:
    qint64 readRaw(char *data, qint64 maxSize);
    qint64 writeRaw(const char *data, qint64 size);
    bool pullTls();
    bool pushTls();
    void onReadable();
    void onWritable();
    void finishClosing();

    int m_fd = -1;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    std::unique_ptr<tls::TlsChannel> m_tls;
    QByteArray m_out;
    qsizetype m_outOffset = 0;
    bool m_closing = false;
    bool m_halfClosed = false;
    bool m_rawEnded = false; // TLS: the peer closed or the channel failed
};

} // namespace edgesse::http
