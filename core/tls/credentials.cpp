#include "core/tls/credentials.h"

#include <QFile>
#include <QHostAddress>
#include <QSaveFile>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <memory>

namespace edgesse::tls {

namespace {

struct Free {
    void operator()(EVP_PKEY *p) const { EVP_PKEY_free(p); }
    void operator()(X509 *p) const { X509_free(p); }
    void operator()(BIO *p) const { BIO_free(p); }
    void operator()(X509_EXTENSION *p) const { X509_EXTENSION_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

Key newKey()
{
    return Key(EVP_EC_gen("P-256"));
}

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long n = BIO_ctrl(bio, BIO_CTRL_INFO, 0, static_cast<void *>(&data));
    return QByteArray(data, static_cast<qsizetype>(n));
}

QByteArray certPem(X509 *cert)
{
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(bio.get(), cert);
    return bioBytes(bio.get());
}

QByteArray keyPem(EVP_PKEY *key)
{
    Bio bio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    return bioBytes(bio.get());
}

void addExtension(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, Free> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (ext)
        X509_add_ext(cert, ext.get(), -1);
}

Cert newCertificate(EVP_PKEY *key, const char *commonName)
{
    Cert cert(X509_new());
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME *name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("EdgeSSE"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>(commonName), -1, -1, 0);
    return cert;
}

QByteArray subjectAltNames(const QStringList &names)
{
    QStringList parts;
    for (const QString &n : names)
        parts << (QHostAddress(n).isNull() ? QStringLiteral("DNS:") : QStringLiteral("IP:")) + n;
    return parts.join(u',').toLatin1();
}

} // namespace

static QByteArray spkiHash(X509 *cert)
{
    EVP_PKEY *key = X509_get0_pubkey(cert);
    unsigned char *der = nullptr;
    const int length = i2d_PUBKEY(key, &der);
    if (length <= 0)
        return {};
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(der, static_cast<size_t>(length), digest);
    OPENSSL_free(der);
    return QByteArray(reinterpret_cast<const char *>(digest), sizeof digest).toBase64();
}

Credentials generateLocalCredentials(const QStringList &names)
{
    Key caKey = newKey();
    Cert ca = newCertificate(caKey.get(), "EdgeSSE throw-away local CA");
    X509_set_issuer_name(ca.get(), X509_get_subject_name(ca.get()));
    addExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE");
    addExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
    addExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash");
    X509_sign(ca.get(), caKey.get(), EVP_sha256());

    Key key = newKey();
    const QByteArray first = names.isEmpty() ? QByteArrayLiteral("localhost") : names.first().toLatin1();
    Cert cert = newCertificate(key.get(), first.constData());
    X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
    addExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
    addExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature");
    addExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
    addExtension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
    if (!names.isEmpty())
        addExtension(cert.get(), ca.get(), NID_subject_alt_name, subjectAltNames(names).constData());
    X509_sign(cert.get(), caKey.get(), EVP_sha256());

    Credentials c;
    c.certificatePem = certPem(cert.get());
    c.privateKeyPem = keyPem(key.get());
    c.caCertificatePem = certPem(ca.get());
    c.spkiSha256Base64 = spkiHash(cert.get());
    return c;
}

std::optional<Credentials> loadCredentials(const QString &certificateFile, const QString &keyFile, QString *error)
{
    const auto readAll = [error](const QString &path, QByteArray &out) {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly)) {
            *error = QStringLiteral("%1: cannot read: %2").arg(path, f.errorString());
            return false;
        }
        out = f.readAll();
        return true;
    };
    Credentials c;
    if (!readAll(certificateFile, c.certificatePem) || !readAll(keyFile, c.privateKeyPem))
        return std::nullopt;
    Bio certBio(BIO_new_mem_buf(c.certificatePem.constData(), static_cast<int>(c.certificatePem.size())));
    Cert leaf(PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr));
    if (!leaf) {
        *error = QStringLiteral("%1: no PEM certificate in it (expected -----BEGIN CERTIFICATE-----)").arg(certificateFile);
        return std::nullopt;
    }
    Cert last;
    while (X509 *next = PEM_read_bio_X509(certBio.get(), nullptr, nullptr, nullptr))
        last.reset(next);
    Bio keyBio(BIO_new_mem_buf(c.privateKeyPem.constData(), static_cast<int>(c.privateKeyPem.size())));
    Key key(PEM_read_bio_PrivateKey(keyBio.get(), nullptr, nullptr, nullptr));
    if (!key) {
        *error = QStringLiteral("%1: no unencrypted PEM private key in it").arg(keyFile);
        return std::nullopt;
    }
    if (X509_check_private_key(leaf.get(), key.get()) != 1) {
        *error = QStringLiteral("%1 does not hold the private key of the certificate in %2").arg(keyFile, certificateFile);
        return std::nullopt;
    }
    c.caCertificatePem = certPem(last ? last.get() : leaf.get());
    c.spkiSha256Base64 = spkiHash(leaf.get());
    return c;
}

bool writeCaFile(const Credentials &credentials, const QString &path, QString *error)
{
    QSaveFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(credentials.caCertificatePem) != credentials.caCertificatePem.size()
        || !f.commit()) {
        *error = QStringLiteral("%1: cannot write the CA certificate: %2").arg(path, f.errorString());
        return false;
    }
    return true;
}

} // namespace edgesse::tls
