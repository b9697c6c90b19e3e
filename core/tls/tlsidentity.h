#pragma once

#include "core/tls/credentials.h"
#include "core/tls/tlscontext.h"

#include <memory>

namespace edgesse::tls {

// What one run speaks TLS with: the certificate every node serves, the server context
// made from it and the client context that trusts its CA (simulated browsers, relays).
struct TlsIdentity {
    Credentials credentials;
    std::shared_ptr<const TlsContext> server;
    std::shared_ptr<const TlsContext> client;

    // From `given` (--tls-cert/--tls-key), or a throw-away local CA and a certificate for
    // 127.0.0.1, ::1 and localhost when null. Null with `error` when the certificate cannot
    // be used.
    static std::shared_ptr<const TlsIdentity> make(const Credentials *given, QString *error);
};

} // namespace edgesse::tls
