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
// handshake completes waits for it — except TLS 1.3 early data (0-RTT): a client resuming a
// session whose ticket allows it, asked to, sends what it is given before start() as early
// data with its ClientHello, and sends it again after the handshake if the server rejected
// it; a server reads early data as plaintext and answers it at once (0.5-RTT data), before
// the client's Finished. Not thread-safe; one owner.
class TlsChannel
{
public:
    static std::unique_ptr<TlsChannel> server(const TlsContext &context);
    // `host` is checked against the certificate (DNS name or IP address) and sent as SNI when
    // it is a name. `alpn` in wire format (length-prefixed). A session in `sessions` is
    // offered for resumption; new ones from the server are stored there. `earlyData`: send
    // plaintext given before start() as early data when that session allows it.
    static std::unique_ptr<TlsChannel> client(const TlsContext &context, const QString &host, const QByteArray &alpn,
                                              TlsSessionSlot *sessions, bool earlyData = false);
    ~TlsChannel();
    TlsChannel(const TlsChannel &) = delete;
    TlsChannel &operator=(const TlsChannel &) = delete;

    // Client: produces the ClientHello (already sent, with early data, when send() came first
    // and the session allowed it). Nothing sent after start() goes as early data.
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
    // Client: plaintext sent now goes as early data (a resumable session allowing it was
    // offered, start() not called yet).
    bool acceptsEarlyData() const { return m_earlyBudget > 0 && !m_started; }
    // Client: early data went out; after the handshake, earlyDataAccepted() says whether the
    // server took it (otherwise it was sent again). Server: early data from the client is
    // being read and answered, the handshake not yet complete.
    bool sentEarlyData() const { return m_earlySent; }
    bool earlyDataAccepted() const;
    bool readingEarlyData() const;
    QString errorString() const { return m_error; }

private:
    explicit TlsChannel(ssl_st *ssl);
    bool advance();
    bool readEarlyData();
    bool finishHandshake();
    bool sendEarly(const char *data, qsizetype size);
    bool fail(int result);

    ssl_st *m_ssl = nullptr;
    bio_st *m_in = nullptr;  // owned by m_ssl
    bio_st *m_out = nullptr; // owned by m_ssl
    QByteArray m_plain;
    QByteArray m_pendingSend;
    QByteArray m_earlyCopy;      // client: early data, resent if the server rejects it
    qsizetype m_earlyBudget = 0; // client: bytes of early data the session still allows
    QString m_error;
    bool m_handshakeDone = false;
    bool m_peerClosed = false;
    bool m_failed = false;
    bool m_started = false;
    bool m_earlySent = false;
    bool m_earlyReading = false; // server: SSL_read_early_data has not said FINISH yet
};

// ALPN wire lists.
QByteArray alpnHttp1();
QByteArray alpnH2();

} // namespace edgesse::tls
