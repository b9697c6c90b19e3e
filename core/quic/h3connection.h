#pragma once

#include "core/quic/udpsocket.h"

#include <QByteArray>
#include <QObject>
#include <QString>

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <chrono>
#include <cstdint>
#include <functional>

class QTimer;
struct gnutls_session_int;
struct nghttp3_conn;
struct nghttp3_callbacks;

namespace edgesse::quic {

class QuicTls;

// ngtcp2 timestamps: steady-clock nanoseconds.
ngtcp2_tstamp timestamp();

// What a QUIC connection does with the datagrams it writes.
using DatagramOut = std::function<void(const SocketAddress &to, const std::uint8_t *data, std::size_t size)>;

// One QUIC connection carrying HTTP/3 (ngtcp2 + nghttp3 + GnuTLS) — what server and client
// connections share: reading datagrams, writing packets (HTTP/3 stream data first, paced by
// ngtcp2's send quantum), the expiry timer (loss detection, PTO, idle timeout, pacing) on a
// QTimer, flow-control credit returned as nghttp3 consumes, and the close. The subclass
// makes the nghttp3 connection (setupHttp) and hears its events through the virtuals.
// Lives in, and is used from, one thread. After finished() it does nothing more; its owner
// deletes it (deleteLater), never from inside one of its calls.
class H3Connection : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(H3Connection)

public:
    ~H3Connection() override;

    // A datagram for this connection from `remote`.
    void receive(const SocketAddress &remote, const std::uint8_t *data, std::size_t size);
    // Writes what is pending (stream data, ACKs, retransmissions) as datagrams.
    void writePackets();
    // CONNECTION_CLOSE with an HTTP/3 application error (H3_NO_ERROR 0x100 for a clean end).
    void closeConnection(std::uint64_t h3Error = 0x100, const QByteArray &reason = {});
    bool isFinished() const { return m_finished; }
    bool handshakeCompleted() const { return m_handshakeDone; }
    QString errorString() const { return m_error; }
    // Smoothed RTT and loss/recovery figures as ngtcp2 sees them now.
    ngtcp2_conn_stat stat() const;
    qint64 bytesSent() const { return m_bytesSent; }
    qint64 bytesReceived() const { return m_bytesReceived; }

    struct Callbacks; // ngtcp2/nghttp3 trampolines (in the .cpp)

signals:
    void handshakeDone();
    // Closed (by either side, idle timeout, error); errorString() says why when not clean.
    void finished();

protected:
    H3Connection(std::shared_ptr<const QuicTls> tls, DatagramOut out, QObject *parent);

    // The ngtcp2 callbacks both sides use; server and client add their few own.
    static ngtcp2_callbacks baseCallbacks();
    // The nghttp3 callbacks both sides use (every event goes to the virtuals below).
    static void fillHttpCallbacks(nghttp3_callbacks *callbacks);
    // Takes the TLS session for `conn` (made by the subclass). False with errorString().
    bool attach(ngtcp2_conn *conn, const SocketAddress &local, const SocketAddress &remote);
    ngtcp2_conn *conn() const { return m_conn; }
    nghttp3_conn *h3() const { return m_h3; }
    void setH3(nghttp3_conn *h3) { m_h3 = h3; }
    // Opens the control and QPACK streams of a new nghttp3 connection. False on failure.
    bool bindHttpStreams();
    // Asks for writePackets() once this loop pass is done (coalesces many writes).
    void scheduleWrite();
    void fail(const QString &message);

    // Creates the nghttp3 connection (once the handshake allows streams). False on failure.
    virtual bool setupHttp() = 0;
    virtual void handshakeCompletedEvent() {}
    // After a datagram was processed: the subclass dispatches what its callbacks collected.
    virtual void afterReceive() {}
    // The connection is gone: every stream still open ends without its handler finishing it.
    virtual void connectionEnded() {}
    // Connection IDs this side issued or retired (a server routes datagrams by them).
    virtual void connectionIdIssued(const ngtcp2_cid &cid) { (void)cid; }
    virtual void connectionIdRetired(const ngtcp2_cid &cid) { (void)cid; }
    // The peer allows more bidirectional streams (a client opens waiting requests).
    virtual void moreStreamsAllowed() {}
    // A stream's data and events came from nghttp3: see the server's and client's overrides.
    virtual void streamAcked(std::int64_t streamId, std::uint64_t bytes, void *streamData);
    virtual void streamClosed(std::int64_t streamId, std::uint64_t appError, void *streamData);
    virtual void streamHeader(std::int64_t streamId, const QByteArray &name, const QByteArray &value, void *streamData);
    virtual void streamHeadersEnded(std::int64_t streamId, bool fin, void *streamData);
    virtual void streamData(std::int64_t streamId, const std::uint8_t *data, std::size_t size, void *streamData);
    virtual void streamEnded(std::int64_t streamId, void *streamData);
    // A callback of nghttp3's that wants a stream's read side or write side shut.
    void shutdownRead(std::int64_t streamId, std::uint64_t appError);
    void shutdownWrite(std::int64_t streamId, std::uint64_t appError);

private:
    friend struct Callbacks;
    void armTimer();
    void onTimer();
    void handleError(int rv);
    void finish();
    bool writeOnce(ngtcp2_tstamp ts, bool *done);

    std::shared_ptr<const QuicTls> m_tls;
    DatagramOut m_out;
    ngtcp2_crypto_conn_ref m_ref{};
    ngtcp2_conn *m_conn = nullptr;
    gnutls_session_int *m_session = nullptr;
    nghttp3_conn *m_h3 = nullptr;
    SocketAddress m_local;
    SocketAddress m_remote;
    QTimer *m_timer = nullptr;
    QString m_error;
    qint64 m_bytesSent = 0;
    qint64 m_bytesReceived = 0;
    ngtcp2_connection_close_error m_closeError{};
    bool m_handshakeDone = false;
    bool m_handshakeSignalPending = false;
    bool m_writeQueued = false;
    bool m_finished = false;
    bool m_closing = false;
    int m_inReceive = 0;
};

} // namespace edgesse::quic
