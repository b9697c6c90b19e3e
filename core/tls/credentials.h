#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgesse::tls {

// A server certificate and its key (PEM), and what a client needs to trust it: the CA
// certificate that signed it, or the certificate itself, and the base64 SHA-256 of its
// SubjectPublicKeyInfo (what Chromium's --ignore-certificate-errors-spki-list takes).
struct Credentials {
    QByteArray certificatePem;
    QByteArray privateKeyPem;
    QByteArray caCertificatePem;
    QByteArray spkiSha256Base64;
};

// A throw-away local CA (EC P-256, valid one day) and a server certificate it signs for
// `names` (DNS names and IP addresses, as subjectAltName). Nothing touches the disk.
Credentials generateLocalCredentials(const QStringList &names);

// Reads a PEM certificate (chain) and its private key. The first certificate's issuer is not
// known here, so the chain's last certificate stands in as what a client trusts.
// On failure: nothing, and `error` names the file and the problem.
std::optional<Credentials> loadCredentials(const QString &certificateFile, const QString &keyFile, QString *error);

// Writes the CA certificate where a client (curl --cacert) can read it; false with `error`.
bool writeCaFile(const Credentials &credentials, const QString &path, QString *error);

} // namespace edgesse::tls
