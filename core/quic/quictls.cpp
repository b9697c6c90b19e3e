#include "core/quic/quictls.h"

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

namespace edgesse::quic {

namespace {

// TLS 1.3 with the AEADs and groups QUIC uses; no middlebox-compatibility records (RFC 9001 §8.4).
constexpr char kPriority[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
                             "+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
                             "+GROUP-SECP384R1:+GROUP-SECP521R1:%DISABLE_TLS13_COMPAT_MODE";

gnutls_datum_t datum(const QByteArray &bytes)
{
    return {reinterpret_cast<unsigned char *>(const_cast<char *>(bytes.constData())),
            static_cast<unsigned int>(bytes.size())};
}

QString gnutlsError(const char *what, int code)
{
    return QStringLiteral("%1: %2").arg(QLatin1String(what), QString::fromUtf8(gnutls_strerror(code)));
}

} // namespace

std::shared_ptr<const QuicTls> QuicTls::server(const QByteArray &certificatePem, const QByteArray &privateKeyPem,
                                               QString *error)
{
    gnutls_certificate_credentials_t credentials = nullptr;
    int rv = gnutls_certificate_allocate_credentials(&credentials);
    if (rv == 0) {
        const gnutls_datum_t cert = datum(certificatePem);
        const gnutls_datum_t key = datum(privateKeyPem);
        rv = gnutls_certificate_set_x509_key_mem2(credentials, &cert, &key, GNUTLS_X509_FMT_PEM, nullptr, 0);
    }
    if (rv < 0) {
        *error = gnutlsError("cannot load the certificate and key for QUIC (PEM certificate and unencrypted key expected)", rv);
        if (credentials)
            gnutls_certificate_free_credentials(credentials);
        return nullptr;
    }
    return std::shared_ptr<const QuicTls>(new QuicTls(credentials, true, {}));
}

std::shared_ptr<const QuicTls> QuicTls::client(const QByteArray &trustedCaPem, QString *error, QByteArray serverName)
{
    gnutls_certificate_credentials_t credentials = nullptr;
    int rv = gnutls_certificate_allocate_credentials(&credentials);
    if (rv == 0) {
        const gnutls_datum_t ca = datum(trustedCaPem);
        rv = gnutls_certificate_set_x509_trust_mem(credentials, &ca, GNUTLS_X509_FMT_PEM);
        if (rv == 0)
            rv = GNUTLS_E_NO_CERTIFICATE_FOUND;
    }
    if (rv < 0) {
        *error = gnutlsError("cannot load the trusted CA for QUIC (a PEM certificate expected)", rv);
        if (credentials)
            gnutls_certificate_free_credentials(credentials);
        return nullptr;
    }
    return std::shared_ptr<const QuicTls>(new QuicTls(credentials, false, std::move(serverName)));
}

QuicTls::~QuicTls()
{
    gnutls_certificate_free_credentials(m_credentials);
}

gnutls_session_int *QuicTls::newSession(ngtcp2_crypto_conn_ref *ref, QString *error) const
{
    gnutls_session_t session = nullptr;
    const unsigned flags = (m_server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA;
    int rv = gnutls_init(&session, flags);
    if (rv == 0)
        rv = gnutls_priority_set_direct(session, kPriority, nullptr);
    if (rv == 0) {
        const int configured = m_server ? ngtcp2_crypto_gnutls_configure_server_session(session)
                                        : ngtcp2_crypto_gnutls_configure_client_session(session);
        rv = configured == 0 ? 0 : GNUTLS_E_INTERNAL_ERROR;
    }
    if (rv == 0)
        rv = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, m_credentials);
    if (rv == 0) {
        static const QByteArray h3 = QByteArrayLiteral("h3");
        const gnutls_datum_t alpn = datum(h3);
        rv = gnutls_alpn_set_protocols(session, &alpn, 1, GNUTLS_ALPN_MANDATORY);
    }
    if (rv == 0 && !m_server) {
        rv = gnutls_server_name_set(session, GNUTLS_NAME_DNS, m_serverName.constData(),
                                    static_cast<size_t>(m_serverName.size()));
        gnutls_session_set_verify_cert(session, m_serverName.constData(), 0);
    }
    if (rv != 0) {
        *error = gnutlsError("cannot set up a TLS session for QUIC", rv);
        if (session)
            gnutls_deinit(session);
        return nullptr;
    }
    gnutls_session_set_ptr(session, ref);
    return session;
}

} // namespace edgesse::quic
