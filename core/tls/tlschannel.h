#pragma once

#include <QByteArray>
#include <QString>

#include <memory>

struct ssl_st;
struct bio_st;

namespace edgesse::tls {

class TlsContext;
class TlsSessionSlot;

// One TLS connection over memory BIOs, so any transport carries it (a raw descriptor on
// the server side, a QTcpSocket on the client side): ciphertext in with receive(),
// ciphertext out with takeCiphertext(), plaintext both ways. Plaintext sent before the
// handshake completes waits for it. Not thread-safe; one owner.
class TlsChannel
{
public:
    static std::unique_ptr<TlsChannel> server(const TlsContext &context);
    // `host` is checked against the certificate (DNS name or IP address) and sent as SNI when
    // it is a name. `alpn` in wire format (length-prefixed). A session in `sessions` is
    // offered for resumption; new ones from the server are stored there.
    static std::unique_ptr<TlsChannel> client(const TlsContext &context, const QString &host, const QByteArray &alpn,
                                              TlsSessionSlot *sessions);
    ~TlsChannel();
    TlsChannel(const TlsChannel &) = delete;
    TlsChannel &operator=(const TlsChannel &) = delete;

    // Client: produces the ClientHello.
    void start();
    // Ciphertext from the peer. False on a fatal TLS error (see errorString()).
    bool receive(const char *data, qsizetype size);
    bool send(const char *data, qsizetype size);
    // Queues close_notify.
    void close();

    QByteArray takeCiphertext();
    QByteArray takePlaintext();
    qsizetype plaintextAvailable() const { return m_plain.size(); }
    qsizetype readPlaintext(char *data, qsizetype maxSize);

    bool handshakeComplete() const { return m_handshakeDone; }
    bool peerClosed() const { return m_peerClosed; }
    bool failed() const { return m_failed; }
    // The protocol ALPN agreed on ("h2", "http/1.1"), or empty.
    QByteArray alpn() const;
    bool sessionReused() const;
    QString errorString() const { return m_error; }

private:
    explicit TlsChannel(ssl_st *ssl);
    bool advance();
    bool fail(int result);

    ssl_st *m_ssl = nullptr;
    bio_st *m_in = nullptr;  // owned by m_ssl
    bio_st *m_out = nullptr; // owned by m_ssl
    QByteArray m_plain;
    QByteArray m_pendingSend;
    QString m_error;
    bool m_handshakeDone = false;
    bool m_peerClosed = false;
    bool m_failed = false;
};

// ALPN wire lists.
QByteArray alpnHttp1();
QByteArray alpnH2();

} // namespace edgesse::tls
