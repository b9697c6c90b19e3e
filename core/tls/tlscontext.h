#pragma once

#include <QByteArray>
#include <QString>

#include <memory>

struct ssl_ctx_st;
struct ssl_session_st;

namespace edgesse::tls {

struct Credentials;

// An OpenSSL 3 SSL_CTX: TLS 1.2 and 1.3, ALPN `h2` and `http/1.1`. A server context holds
// the certificate and key, picks h2 when the client offers it and accepts up to 16 KB of TLS
// 1.3 early data on a resumed session (see TlsChannel); a client context trusts
// one CA and keeps no session cache of its own (sessions live in a TlsSessionSlot, one per
// browser and origin, as browsers keep them). Immutable once made; shared by any number of
// channels on any threads.
class TlsContext
{
public:
    static std::shared_ptr<TlsContext> server(const Credentials &credentials, QString *error);
    static std::shared_ptr<TlsContext> client(const QByteArray &trustedCaPem, QString *error);
    ~TlsContext();
    TlsContext(const TlsContext &) = delete;
    TlsContext &operator=(const TlsContext &) = delete;

    ssl_ctx_st *native() const { return m_ctx; }
    bool isServer() const { return m_server; }

private:
    TlsContext(ssl_ctx_st *ctx, bool server) : m_ctx(ctx), m_server(server) {}
    ssl_ctx_st *m_ctx = nullptr;
    bool m_server = false;
};

// The TLS session a client may resume on its next connection to the same origin. Owned by
// whoever reconnects (a browser's connection pool); used from that owner's thread only.
class TlsSessionSlot
{
public:
    TlsSessionSlot() = default;
    ~TlsSessionSlot();
    TlsSessionSlot(const TlsSessionSlot &) = delete;
    TlsSessionSlot &operator=(const TlsSessionSlot &) = delete;

    ssl_session_st *session() const { return m_session; }
    // Takes a reference the caller already holds.
    void store(ssl_session_st *session);
    void clear() { store(nullptr); }

private:
    ssl_session_st *m_session = nullptr;
};

// The OpenSSL error queue as one line (and emptied), for messages a user reads.
QString takeOpenSslErrors();

} // namespace edgesse::tls
