#include "core/tls/tlscontext.h"

#include "core/tls/credentials.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <QStringList>

namespace edgesse::tls {

namespace {

const unsigned char kH2[] = {'h', '2'};
constexpr std::uint32_t kMaxEarlyDataBytes = 16 * 1024;
const unsigned char kHttp11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};

bool offered(const unsigned char *in, unsigned int inlen, const unsigned char *want, unsigned int wantLen,
             const unsigned char **out, unsigned char *outlen)
{
    for (unsigned int i = 0; i < inlen;) {
        const unsigned int len = in[i];
        if (i + 1 + len > inlen)
            return false;
        if (len == wantLen && std::equal(want, want + wantLen, in + i + 1)) {
            *out = in + i + 1;
            *outlen = static_cast<unsigned char>(len);
            return true;
        }
        i += 1 + len;
    }
    return false;
}

int selectAlpn(SSL *, const unsigned char **out, unsigned char *outlen, const unsigned char *in, unsigned int inlen,
               void *)
{
    if (offered(in, inlen, kH2, sizeof kH2, out, outlen)
        || offered(in, inlen, kHttp11, sizeof kHttp11, out, outlen))
        return SSL_TLSEXT_ERR_OK;
    return SSL_TLSEXT_ERR_NOACK;
}

// A client connection's SSL carries its TlsSessionSlot as app data (TlsChannel sets it).
int sessionReceived(SSL *ssl, SSL_SESSION *session)
{
    auto *slot = static_cast<TlsSessionSlot *>(SSL_get_ex_data(ssl, 0));
    if (!slot)
        return 0;
    slot->store(session);
    return 1; // the slot keeps the reference
}

} // namespace

QString takeOpenSslErrors()
{
    QStringList parts;
    while (const unsigned long e = ERR_get_error()) {
        char buffer[256];
        ERR_error_string_n(e, buffer, sizeof buffer);
        parts << QString::fromLatin1(buffer);
    }
    return parts.isEmpty() ? QStringLiteral("unknown TLS error") : parts.join(QStringLiteral("; "));
}

std::shared_ptr<TlsContext> TlsContext::server(const Credentials &credentials, QString *error)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    BIO *certBio = BIO_new_mem_buf(credentials.certificatePem.constData(), int(credentials.certificatePem.size()));
    X509 *leaf = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
    bool ok = leaf && SSL_CTX_use_certificate(ctx, leaf) == 1;
    X509_free(leaf);
    while (ok) {
        X509 *chain = PEM_read_bio_X509(certBio, nullptr, nullptr, nullptr);
        if (!chain)
            break;
        SSL_CTX_ctrl(ctx, SSL_CTRL_CHAIN_CERT, 0, chain);
    }
    BIO_free(certBio);
    ERR_clear_error(); // the end of the chain reads as an error
    BIO *keyBio = BIO_new_mem_buf(credentials.privateKeyPem.constData(), int(credentials.privateKeyPem.size()));
    EVP_PKEY *key = PEM_read_bio_PrivateKey(keyBio, nullptr, nullptr, nullptr);
    ok = ok && key && SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1;
    EVP_PKEY_free(key);
    BIO_free(keyBio);
    if (!ok) {
        *error = QStringLiteral("the TLS certificate or key cannot be used: %1").arg(takeOpenSslErrors());
        SSL_CTX_free(ctx);
        return nullptr;
    }
    SSL_CTX_set_alpn_select_cb(ctx, &selectAlpn, nullptr);
    // TLS 1.3 tickets allow early data. With the server's session cache on (OpenSSL's
    // default) each ticket's early data is accepted once (OpenSSL's anti-replay); a replayed
    // ClientHello still resumes, its early data rejected and sent again after the handshake.
    SSL_CTX_set_max_early_data(ctx, kMaxEarlyDataBytes);
    return std::shared_ptr<TlsContext>(new TlsContext(ctx, true));
}

std::shared_ptr<TlsContext> TlsContext::client(const QByteArray &trustedCaPem, QString *error)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    BIO *bio = BIO_new_mem_buf(trustedCaPem.constData(), int(trustedCaPem.size()));
    int added = 0;
    while (X509 *ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        added += X509_STORE_add_cert(store, ca) == 1;
        X509_free(ca);
    }
    BIO_free(bio);
    ERR_clear_error();
    if (added == 0) {
        *error = QStringLiteral("no CA certificate to trust (expected PEM -----BEGIN CERTIFICATE-----)");
        SSL_CTX_free(ctx);
        return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    // Sessions are handed to the connection's TlsSessionSlot by TlsChannel.
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(ctx, &sessionReceived);
    return std::shared_ptr<TlsContext>(new TlsContext(ctx, false));
}

TlsContext::~TlsContext()
{
    SSL_CTX_free(m_ctx);
}

TlsSessionSlot::~TlsSessionSlot()
{
    SSL_SESSION_free(m_session);
}

void TlsSessionSlot::store(ssl_session_st *session)
{
    SSL_SESSION_free(m_session);
    m_session = session;
}

} // namespace edgesse::tls
