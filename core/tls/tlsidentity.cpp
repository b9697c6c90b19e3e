#include "core/tls/tlsidentity.h"

namespace edgesse::tls {

std::shared_ptr<const TlsIdentity> TlsIdentity::make(const Credentials *given, QString *error)
{
    auto identity = std::make_shared<TlsIdentity>();
    identity->credentials = given ? *given
                                  : generateLocalCredentials({QStringLiteral("127.0.0.1"), QStringLiteral("::1"),
                                                              QStringLiteral("localhost")});
    identity->server = TlsContext::server(identity->credentials, error);
    if (!identity->server)
        return nullptr;
    identity->client = TlsContext::client(identity->credentials.caCertificatePem, error);
    if (!identity->client)
        return nullptr;
    return identity;
}

} // namespace edgesse::tls
