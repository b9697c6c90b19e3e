#pragma once

#include <QByteArray>
#include <QString>

#include <memory>

struct gnutls_session_int;
struct gnutls_certificate_credentials_st;
struct ngtcp2_crypto_conn_ref;

namespace edgesse::quic {

// GnuTLS certificate credentials for QUIC: TLS 1.3 only, ALPN `h3`. A server holds the run's
// certificate and key (the same PEM the TCP servers load into OpenSSL); a client trusts one
// CA and checks the server's certificate for `serverName`. Immutable once made; shared by
// any number of connections on any threads (GnuTLS credentials are read-only after set-up).
class QuicTls
{
public:
    static std::shared_ptr<const QuicTls> server(const QByteArray &certificatePem, const QByteArray &privateKeyPem,
                                                 QString *error);
    static std::shared_ptr<const QuicTls> client(const QByteArray &trustedCaPem, QString *error,
                                                 QByteArray serverName = QByteArrayLiteral("localhost"));
    ~QuicTls();
    QuicTls(const QuicTls &) = delete;
    QuicTls &operator=(const QuicTls &) = delete;

    bool isServer() const { return m_server; }
    // A session for one connection, set up for ngtcp2 (secrets, handshake data, transport
    // parameters) with `ref` as its pointer, which must outlive it. Null with `error`.
    gnutls_session_int *newSession(ngtcp2_crypto_conn_ref *ref, QString *error) const;

private:
    QuicTls(gnutls_certificate_credentials_st *credentials, bool server, QByteArray serverName)
        : m_credentials(credentials), m_server(server), m_serverName(std::move(serverName))
    {
    }

    gnutls_certificate_credentials_st *m_credentials = nullptr;
    bool m_server = false;
    QByteArray m_serverName;
};

} // namespace edgesse::quic
