#include "core/link/tlshandshakewatch.h"

#include <algorithm>
#include <array>

namespace edgesse::link {

namespace {

constexpr unsigned char kChangeCipherSpec = 20;
constexpr unsigned char kAlert = 21;
constexpr unsigned char kHandshake = 22;
constexpr unsigned char kApplicationData = 23;
constexpr std::size_t kHeaderBytes = 5;
constexpr std::size_t kMaxRecordBytes = 16384 + 2048; // the largest TLSCiphertext fragment
constexpr qsizetype kShownBytes = 40;

struct AlertText {
    unsigned char code;
    const char *name;
    const char *hint;
};

// RFC 8446 section 6 (and 5246 for those 1.3 dropped), with what each usually means here.
constexpr std::array kAlerts{
    AlertText{0, "close_notify", ""},
    AlertText{10, "unexpected_message", ""},
    AlertText{20, "bad_record_mac", ""},
    AlertText{40, "handshake_failure", " (no cipher suite or group both sides accept)"},
    AlertText{42, "bad_certificate", " (the certificate is not accepted)"},
    AlertText{45, "certificate_expired", " (the certificate has expired)"},
    AlertText{46, "certificate_unknown", " (the certificate is not accepted)"},
    AlertText{47, "illegal_parameter", ""},
    AlertText{48, "unknown_ca", " (the certificate's CA is not trusted)"},
    AlertText{50, "decode_error", ""},
    AlertText{51, "decrypt_error", ""},
    AlertText{70, "protocol_version", " (no TLS version both sides speak)"},
    AlertText{71, "insufficient_security", ""},
    AlertText{80, "internal_error", ""},
    AlertText{109, "missing_extension", ""},
    AlertText{112, "unrecognized_name", " (the server name is not served)"},
    AlertText{116, "certificate_required", " (the server wants a client certificate)"},
    AlertText{120, "no_application_protocol", " (no ALPN protocol in common)"},
};

// The first line of what a side sent, printable.
QString shown(const QByteArray &bytes)
{
    QByteArray line = bytes.left(kShownBytes);
    const qsizetype end = line.indexOf('\r') >= 0 ? line.indexOf('\r') : line.indexOf('\n');
    if (end >= 0)
        line.truncate(end);
    for (char &c : line) {
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e)
            c = '.';
    }
    return QString::fromLatin1(line);
}

QString sideName(bool client)
{
    return client ? QStringLiteral("the client") : QStringLiteral("the target");
}

} // namespace

void TlsHandshakeWatch::fromClient(const char *data, std::size_t size)
{
    if (!pending())
        return;
    keep(m_client, data, size);
    if (!m_client.plaintext) // plaintext: what the target does decides
        read(m_client, true, data, size);
}

void TlsHandshakeWatch::fromTarget(const char *data, std::size_t size)
{
    if (!pending() || size == 0)
        return;
    if (m_client.plaintext) {
        answerToPlaintext(data);
        return;
    }
    keep(m_target, data, size);
    if (!m_target.plaintext)
        read(m_target, false, data, size);
    if (m_target.plaintext)
        targetSpokePlaintext(false);
}

void TlsHandshakeWatch::keep(Reader &reader, const char *data, std::size_t size)
{
    if (reader.first.size() < kShownBytes)
        reader.first.append(data, qsizetype(std::min(size, std::size_t(kShownBytes - reader.first.size()))));
}

// A TLS record's first byte is its type (20-23), which no HTTP answer begins with.
void TlsHandshakeWatch::answerToPlaintext(const char *data)
{
    const auto first = static_cast<unsigned char>(data[0]);
    if (first >= kChangeCipherSpec && first <= kApplicationData)
        fail(QStringLiteral("the client spoke plaintext (\"%1\") to a target that serves TLS (it answered with a TLS "
                            "record); clients on a tls link must speak TLS (https)")
                 .arg(shown(m_client.first)));
    else
        m_state = State::Off; // a cleartext exchange
}

// Said once its first line is in (or the connection ended), so that the message can quote it.
void TlsHandshakeWatch::targetSpokePlaintext(bool ended)
{
    if (ended || m_target.first.contains('\n') || m_target.first.size() >= kShownBytes)
        fail(QStringLiteral("the target answered the ClientHello in plaintext (\"%1\"): it does not serve TLS on the port "
                            "the link leads to")
                 .arg(shown(m_target.first)));
}

void TlsHandshakeWatch::read(Reader &reader, bool client, const char *data, std::size_t size)
{
    std::size_t at = 0;
    while (at < size && pending() && !reader.plaintext) {
        if (reader.inAlert) {
            reader.alert[reader.alertBytes++] = static_cast<unsigned char>(data[at++]);
            if (reader.alertBytes == 2) {
                reader.inAlert = false;
                onAlert(client, reader.alert[1]);
            }
            continue;
        }
        if (reader.bodyLeft > 0) {
            const std::size_t skip = std::min(reader.bodyLeft, size - at);
            reader.bodyLeft -= skip;
            at += skip;
            continue;
        }
        reader.header[reader.headerBytes++] = static_cast<unsigned char>(data[at++]);
        if (reader.headerBytes == kHeaderBytes) {
            reader.headerBytes = 0;
            onRecord(reader, client);
        }
    }
}

void TlsHandshakeWatch::onRecord(Reader &reader, bool client)
{
    const unsigned char type = reader.header[0];
    const std::size_t length = (std::size_t(reader.header[3]) << 8) | reader.header[4];
    const bool first = reader.records++ == 0;
    const bool record = type >= kChangeCipherSpec && type <= kApplicationData && reader.header[1] == 3 && length <= kMaxRecordBytes;
    if (!record && first) {
        reader.plaintext = true;
        return;
    }
    if (!record) {
        fail(QStringLiteral("%1 sent bytes that are not a TLS record during the handshake").arg(sideName(client)));
        return;
    }
    if (type == kAlert) {
        if (length == 2) {
            reader.inAlert = true;
            reader.alertBytes = 0;
        } else {
            fail(QStringLiteral("%1 sent an encrypted alert during the handshake").arg(sideName(client)));
        }
        return;
    }
    if (first && type != kHandshake) {
        fail(QStringLiteral("%1 did not begin with a TLS hello (its first record is of type %2)").arg(sideName(client)).arg(type));
        return;
    }
    reader.bodyLeft = length;
    if (client && (type == kChangeCipherSpec || type == kApplicationData))
        m_clientEncrypted = true;
    else if (!client && m_clientEncrypted)
        m_state = State::Completed;
}

void TlsHandshakeWatch::onAlert(bool client, unsigned char description)
{
    const auto known = std::find_if(kAlerts.begin(), kAlerts.end(), [&](const AlertText &a) { return a.code == description; });
    const QString name = known != kAlerts.end() ? QString::fromLatin1(known->name) : QStringLiteral("alert");
    const QString hint = known != kAlerts.end() ? QString::fromLatin1(known->hint) : QString();
    fail(QStringLiteral("%1 ended the handshake with the TLS alert %2 (%3)%4").arg(sideName(client), name).arg(description).arg(hint));
}

void TlsHandshakeWatch::clientEnded()
{
    if (!pending() || m_client.plaintext)
        return; // a plaintext request may be half-closed: the target's answer decides
    if (m_target.plaintext) {
        targetSpokePlaintext(true);
        return;
    }
    if (m_client.first.isEmpty()) {
        m_state = State::Off; // it never began one
        return;
    }
    fail(m_target.first.isEmpty()
             ? QStringLiteral("the client ended the connection before the target answered its ClientHello")
             : QStringLiteral("the client ended the connection during the handshake, after the target's hello and "
                              "certificate (does it trust the certificate's CA?)"));
}

void TlsHandshakeWatch::targetEnded()
{
    if (!pending())
        return;
    if (m_client.first.isEmpty()) {
        m_state = State::Off;
        return;
    }
    if (m_target.plaintext) {
        targetSpokePlaintext(true);
        return;
    }
    if (m_client.plaintext) {
        fail(QStringLiteral("the client spoke plaintext (\"%1\") to a target that serves only TLS (it closed the "
                            "connection); clients on a tls link must speak TLS (https)")
                 .arg(shown(m_client.first)));
        return;
    }
    fail(m_target.first.isEmpty()
             ? QStringLiteral("the target closed the connection without answering the ClientHello (does it serve TLS?)")
             : QStringLiteral("the target ended the connection during the handshake"));
}

void TlsHandshakeWatch::fail(QString cause)
{
    m_state = State::Failed;
    m_cause = std::move(cause);
}

} // namespace edgesse::link
