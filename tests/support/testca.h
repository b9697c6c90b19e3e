#pragma once

// A TLS identity made for one test, with its CA written to a file for the peers (curl,
// openssl, nghttp) that must trust it.

#include "core/tls/credentials.h"
#include "core/tls/tlsidentity.h"

#include <QString>
#include <QTemporaryDir>

#include <memory>

namespace edgesse::testing {

// The identity, its CA written to `dir`/ca.pem (the path in `caFile`); null with `error` set
// when either fails.
inline std::shared_ptr<const tls::TlsIdentity> identityWithCaFile(const QTemporaryDir &dir, QString &caFile,
                                                                  QString *error)
{
    auto identity = tls::TlsIdentity::make(nullptr, error);
    if (!identity)
        return nullptr;
    if (!dir.isValid()) {
        *error = QStringLiteral("no temporary folder for the CA file: %1").arg(dir.errorString());
        return nullptr;
    }
    caFile = dir.filePath(QStringLiteral("ca.pem"));
    if (!tls::writeCaFile(identity->credentials, caFile, error))
        return nullptr;
    return identity;
}

} // namespace edgesse::testing
