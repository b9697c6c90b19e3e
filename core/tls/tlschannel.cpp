#include "core/tls/tlschannel.h"

#include "core/tls/tlscontext.h"

#include <QHostAddress>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace edgesse::tls {

namespace {
constexpr int kReadChunk = 16 * 1024;
}

QByteArray alpnHttp1()
{
    return QByteArrayLiteral("\x08http/1.1");
}

QByteArray alpnH2()
{
    return QByteArrayLiteral("\x02h2\x08http/1.1");
}

TlsChannel::TlsChannel(ssl_st *ssl) : m_ssl(ssl), m_in(BIO_new(BIO_s_mem())), m_out(BIO_new(BIO_s_mem()))
{
    BIO_set_mem_eof_return(m_in, -1);
    SSL_set_bio(m_ssl, m_in, m_out);
}

TlsChannel::~TlsChannel()
{
    // A connection that simply ends (the peer went, we closed) keeps its session
    // resumable, as in browsers; OpenSSL would otherwise drop it as if the TLS had failed.
    if (!m_failed)
        SSL_set_shutdown(m_ssl, SSL_SENT_SHUTDOWN);
    SSL_free(m_ssl);
}

std::unique_ptr<TlsChannel> TlsChannel::server(const TlsContext &context)
{
    std::unique_ptr<TlsChannel> channel(new TlsChannel(SSL_new(context.native())));
    SSL_set_accept_state(channel->m_ssl);
    channel->m_earlyReading = true;
    return channel;
}

std::unique_ptr<TlsChannel> TlsChannel::client(const TlsContext &context, const QString &host, const QByteArray &alpn,
                                               TlsSessionSlot *sessions, bool earlyData)
{
    std::unique_ptr<TlsChannel> channel(new TlsChannel(SSL_new(context.native())));
    SSL *ssl = channel->m_ssl;
    SSL_set_connect_state(ssl);
    const QByteArray name = host.toLatin1();
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    if (QHostAddress(host).isNull()) {
        SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char *>(name.constData()));
        X509_VERIFY_PARAM_set1_host(param, name.constData(), static_cast<size_t>(name.size()));
    } else {
        X509_VERIFY_PARAM_set1_ip_asc(param, name.constData());
    }
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char *>(alpn.constData()),
                        static_cast<unsigned int>(alpn.size()));
    if (sessions) {
        SSL_set_ex_data(ssl, 0, sessions);
        if (sessions->session()) {
            SSL_set_session(ssl, sessions->session());
            if (earlyData)
                channel->m_earlyBudget = static_cast<qsizetype>(SSL_SESSION_get_max_early_data(sessions->session()));
        }
    }
    return channel;
}

void TlsChannel::start()
{
    m_started = true;
    advance();
}

bool TlsChannel::receive(const char *data, qsizetype size)
{
    if (m_failed)
        return false;
    if (size > 0)
        BIO_write(m_in, data, static_cast<int>(size));
    return advance();
}

bool TlsChannel::advance()
{
    if (m_earlyReading && !readEarlyData())
        return false;
    if (m_earlyReading)
        return true; // early data may still come; the handshake goes on with its end
    if (!m_handshakeDone && !finishHandshake())
        return false;
    if (!m_handshakeDone)
        return true;
    char buffer[kReadChunk];
    for (;;) {
        const int n = SSL_read(m_ssl, buffer, sizeof buffer);
        if (n <= 0)
            return fail(n);
        m_plain.append(buffer, n);
    }
}

// Server: reads early data until the client's EndOfEarlyData (at once when it sent none or
// it was rejected). OpenSSL accepts a ticket's early data once only (its anti-replay cache).
bool TlsChannel::readEarlyData()
{
    char buffer[kReadChunk];
    for (;;) {
        size_t n = 0;
        switch (SSL_read_early_data(m_ssl, buffer, sizeof buffer, &n)) {
        case SSL_READ_EARLY_DATA_SUCCESS:
            m_plain.append(buffer, static_cast<qsizetype>(n));
            continue;
        case SSL_READ_EARLY_DATA_FINISH:
            m_earlyReading = false;
            return true;
        default:
            return fail(0);
        }
    }
}

bool TlsChannel::finishHandshake()
{
    const int r = SSL_do_handshake(m_ssl);
    if (r != 1)
        return fail(r);
    m_handshakeDone = true;
    if (m_earlySent && SSL_get_early_data_status(m_ssl) != SSL_EARLY_DATA_ACCEPTED)
        m_pendingSend.prepend(std::exchange(m_earlyCopy, {})); // the server never read it
    m_earlyCopy.clear();
    if (!m_pendingSend.isEmpty()) {
        const QByteArray pending = std::exchange(m_pendingSend, {});
        if (!send(pending.constData(), pending.size()))
            return false;
    }
    return true;
}

// True when the result only means "more input needed" (or an orderly close).
bool TlsChannel::fail(int result)
{
    switch (SSL_get_error(m_ssl, result)) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return true;
    case SSL_ERROR_ZERO_RETURN:
        m_peerClosed = true;
        return true;
    default:
        break;
    }
    m_failed = true;
    const long verify = SSL_get_verify_result(m_ssl);
    m_error = verify != X509_V_OK
        ? QStringLiteral("certificate not trusted: %1").arg(QString::fromLatin1(X509_verify_cert_error_string(verify)))
        : takeOpenSslErrors();
    ERR_clear_error();
    return false;
}

bool TlsChannel::send(const char *data, qsizetype size)
{
    if (m_failed)
        return false;
    if (!m_handshakeDone && (readingEarlyData() || acceptsEarlyData()) && m_pendingSend.isEmpty())
        return sendEarly(data, size);
    if (!m_handshakeDone) {
        m_pendingSend.append(data, size);
        return true;
    }
    qsizetype sent = 0;
    while (sent < size) {
        const int n = SSL_write(m_ssl, data + sent, static_cast<int>(std::min<qsizetype>(size - sent, 1 << 30)));
        if (n <= 0) {
            fail(n);
            return false;
        }
        sent += n;
    }
    return true;
}

// Client: 0-RTT data within the ticket's allowance (the rest waits for the handshake).
// Server: 0.5-RTT data, answering early data before the client's Finished.
bool TlsChannel::sendEarly(const char *data, qsizetype size)
{
    const qsizetype now = readingEarlyData() ? size : std::min(size, m_earlyBudget);
    size_t written = 0;
    if (now > 0 && SSL_write_early_data(m_ssl, data, static_cast<size_t>(now), &written) != 1) {
        if (readingEarlyData()) {
            fail(0);
            return false;
        }
        ERR_clear_error();
        m_earlyBudget = 0; // OpenSSL would not: the handshake carries it all
        m_pendingSend.append(data, size);
        return true;
    }
    if (!readingEarlyData()) {
        m_earlySent = true;
        m_earlyBudget -= now;
        m_earlyCopy.append(data, now);
    }
    if (now < size)
        m_pendingSend.append(data + now, size - now);
    return true;
}

bool TlsChannel::earlyDataAccepted() const
{
    return SSL_get_early_data_status(m_ssl) == SSL_EARLY_DATA_ACCEPTED;
}

bool TlsChannel::readingEarlyData() const
{
    return m_earlyReading && earlyDataAccepted();
}

void TlsChannel::close()
{
    if (!m_failed && m_handshakeDone)
        SSL_shutdown(m_ssl);
}

QByteArray TlsChannel::takeCiphertext()
{
    QByteArray out;
    const int pending = static_cast<int>(BIO_ctrl_pending(m_out));
    if (pending > 0) {
        out.resize(pending);
        BIO_read(m_out, out.data(), pending);
    }
    return out;
}

QByteArray TlsChannel::takePlaintext()
{
    return std::exchange(m_plain, {});
}

qsizetype TlsChannel::readPlaintext(char *data, qsizetype maxSize)
{
    const qsizetype n = std::min(maxSize, m_plain.size());
    std::copy_n(m_plain.constData(), n, data);
    m_plain.remove(0, n);
    return n;
}

QByteArray TlsChannel::alpn() const
{
    const unsigned char *data = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(m_ssl, &data, &length);
    return QByteArray(reinterpret_cast<const char *>(data), static_cast<qsizetype>(length));
}

bool TlsChannel::sessionReused() const
{
    return SSL_session_reused(m_ssl) == 1;
}

} // namespace edgesse::tls
