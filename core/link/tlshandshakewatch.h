#pragma once

#include <QByteArray>
#include <QString>

#include <cstddef>
#include <cstdint>

namespace edgesse::link {

// A `tls: true` link carries real TLS end to end. It cannot read the records, but their
// 5-byte headers (type, version, length) are cleartext, and so is an alert sent before keys
// are agreed. From them it tells a handshake that failed, and why: a target that answers a
// ClientHello in plaintext, an alert, a connection ended before the handshake was over. The
// handshake is over when the target sends a record after the client's first encrypted one
// (the client's Finished in TLS 1.3, its ChangeCipherSpec in 1.2); then nothing more is read.
// A client that speaks plaintext fails when the target serves only TLS (it answers with a
// TLS record or closes); answered in plaintext, it is a cleartext exchange, which the nodes
// serve beside TLS on the same port, not a handshake. A connection that ends before the
// client sent a byte was no handshake either. One per connection, on the link's thread.
class TlsHandshakeWatch
{
public:
    enum class State { Off, Pending, Completed, Failed };

    explicit TlsHandshakeWatch(bool enabled = false) : m_state(enabled ? State::Pending : State::Off) {}

    State state() const { return m_state; }
    bool pending() const { return m_state == State::Pending; }
    bool failed() const { return m_state == State::Failed; }
    // Bytes as they cross the link, in the order they arrive.
    void fromClient(const char *data, std::size_t size);
    void fromTarget(const char *data, std::size_t size);
    // The client (or the target) closed or reset its end.
    void clientEnded();
    void targetEnded();
    // What went wrong, in a sentence a user can act on; empty unless failed().
    const QString &cause() const { return m_cause; }

private:
    struct Reader {
        unsigned char header[5]{};
        std::size_t headerBytes = 0;
        std::size_t bodyLeft = 0; // of the record being passed over
        unsigned char alert[2]{};
        std::size_t alertBytes = 0;
        bool inAlert = false; // reading a plaintext alert's two bytes
        std::uint64_t records = 0;
        QByteArray first;       // the side's first bytes, for a message
        bool plaintext = false; // they were no TLS record
    };

    static void keep(Reader &reader, const char *data, std::size_t size);
    void read(Reader &reader, bool client, const char *data, std::size_t size);
    void answerToPlaintext(const char *data);
    void targetSpokePlaintext(bool ended);
    void onRecord(Reader &reader, bool client);
    void onAlert(bool client, unsigned char description);
    void fail(QString cause);

    State m_state;
    Reader m_client;
    Reader m_target;
    bool m_clientEncrypted = false; // the client has sent ChangeCipherSpec or an encrypted record
    QString m_cause;
};

} // namespace edgesse::link
