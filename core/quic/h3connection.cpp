#include "core/quic/h3connection.h"

#include "core/quic/quictls.h"

#include <QTimer>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>

#include <algorithm>

namespace edgesse::quic {

ngtcp2_tstamp timestamp()
{
    return static_cast<ngtcp2_tstamp>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

namespace {

// Datagrams one writePackets() sends at most; the rest after the next loop pass (pacing
// permitting), so one busy connection does not hold the thread.
constexpr int kMaxDatagramsPerWrite = 64;
constexpr std::size_t kPacketBytes = 1500;

H3Connection *self(void *userData)
{
    return static_cast<H3Connection *>(userData);
}

QByteArray bytes(nghttp3_rcbuf *buffer)
{
    const nghttp3_vec v = nghttp3_rcbuf_get_buf(buffer);
    return QByteArray(reinterpret_cast<const char *>(v.base), static_cast<qsizetype>(v.len));
}

} // namespace

struct H3Connection::Callbacks {
    static int handshakeCompleted(ngtcp2_conn *, void *userData)
    {
        H3Connection *c = self(userData);
        c->m_handshakeDone = true;
        c->m_handshakeSignalPending = true;
        c->handshakeCompletedEvent();
        return 0;
    }

    static int recvStreamData(ngtcp2_conn *conn, uint32_t flags, int64_t streamId, uint64_t, const uint8_t *data,
                              size_t size, void *userData, void *)
    {
        H3Connection *c = self(userData);
        if (!c->m_h3 && !c->setupHttp())
            return NGTCP2_ERR_CALLBACK_FAILURE;
        const nghttp3_ssize consumed =
            nghttp3_conn_read_stream(c->m_h3, streamId, data, size, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
        if (consumed < 0) {
            ngtcp2_connection_close_error_set_application_error(
                &c->m_closeError, nghttp3_err_infer_quic_app_error_code(static_cast<int>(consumed)), nullptr, 0);
            return NGTCP2_ERR_CALLBACK_FAILURE;
        }
        ngtcp2_conn_extend_max_stream_offset(conn, streamId, static_cast<uint64_t>(consumed));
        ngtcp2_conn_extend_max_offset(conn, static_cast<uint64_t>(consumed));
        return 0;
    }

    static int ackedStreamDataOffset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t size, void *userData, void *)
    {
        H3Connection *c = self(userData);
        if (c->m_h3 && nghttp3_conn_add_ack_offset(c->m_h3, streamId, size) != 0)
            return NGTCP2_ERR_CALLBACK_FAILURE;
        return 0;
    }

    static int streamClose(ngtcp2_conn *conn, uint32_t flags, int64_t streamId, uint64_t appError, void *userData, void *)
    {
        H3Connection *c = self(userData);
        if (!(flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET))
            appError = NGHTTP3_H3_NO_ERROR;
        if (c->m_h3) {
            const int rv = nghttp3_conn_close_stream(c->m_h3, streamId, appError);
            if (rv != 0 && rv != NGHTTP3_ERR_STREAM_NOT_FOUND)
                return NGTCP2_ERR_CALLBACK_FAILURE;
        }
        if (ngtcp2_conn_is_server(conn) && ngtcp2_is_bidi_stream(streamId))
            ngtcp2_conn_extend_max_streams_bidi(conn, 1);
        return 0;
    }

    static int streamReset(ngtcp2_conn *, int64_t streamId, uint64_t, uint64_t, void *userData, void *)
    {
        H3Connection *c = self(userData);
        if (c->m_h3 && nghttp3_conn_shutdown_stream_read(c->m_h3, streamId) != 0)
            return NGTCP2_ERR_CALLBACK_FAILURE;
        return 0;
    }

    static int streamStopSending(ngtcp2_conn *conn, int64_t streamId, uint64_t appError, void *userData, void *sd)
    {
        return streamReset(conn, streamId, 0, appError, userData, sd);
    }

    static int extendMaxRemoteStreamsBidi(ngtcp2_conn *, uint64_t maxStreams, void *userData)
    {
        H3Connection *c = self(userData);
        if (c->m_h3)
            nghttp3_conn_set_max_client_streams_bidi(c->m_h3, maxStreams);
        return 0;
    }

    static int extendMaxLocalStreamsBidi(ngtcp2_conn *, uint64_t, void *userData)
    {
        self(userData)->moreStreamsAllowed();
        return 0;
    }

    static int extendMaxStreamData(ngtcp2_conn *, int64_t streamId, uint64_t, void *userData, void *)
    {
        H3Connection *c = self(userData);
        if (c->m_h3 && nghttp3_conn_unblock_stream(c->m_h3, streamId) != 0)
            return NGTCP2_ERR_CALLBACK_FAILURE;
        return 0;
    }

    static void rand(uint8_t *dest, size_t size, const ngtcp2_rand_ctx *)
    {
        (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, size);
    }

    static int newConnectionId(ngtcp2_conn *, ngtcp2_cid *cid, uint8_t *token, size_t size, void *userData)
    {
        if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, size) != 0 ||
            gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0)
            return NGTCP2_ERR_CALLBACK_FAILURE;
        cid->datalen = size;
        self(userData)->connectionIdIssued(*cid);
        return 0;
    }

    static int removeConnectionId(ngtcp2_conn *, const ngtcp2_cid *cid, void *userData)
    {
        self(userData)->connectionIdRetired(*cid);
        return 0;
    }

    // nghttp3
    static int acked(nghttp3_conn *, int64_t streamId, uint64_t size, void *userData, void *streamData)
    {
        self(userData)->streamAcked(streamId, size, streamData);
        return 0;
    }
    static int closed(nghttp3_conn *, int64_t streamId, uint64_t appError, void *userData, void *streamData)
    {
        self(userData)->streamClosed(streamId, appError, streamData);
        return 0;
    }
    static int data(nghttp3_conn *, int64_t streamId, const uint8_t *d, size_t size, void *userData, void *streamData)
    {
        H3Connection *c = self(userData);
        c->streamData(streamId, d, size, streamData);
        ngtcp2_conn_extend_max_stream_offset(c->m_conn, streamId, size);
        ngtcp2_conn_extend_max_offset(c->m_conn, size);
        return 0;
    }
    static int deferredConsume(nghttp3_conn *, int64_t streamId, size_t consumed, void *userData, void *)
    {
        H3Connection *c = self(userData);
        ngtcp2_conn_extend_max_stream_offset(c->m_conn, streamId, consumed);
        ngtcp2_conn_extend_max_offset(c->m_conn, consumed);
        return 0;
    }
    static int header(nghttp3_conn *, int64_t streamId, int32_t, nghttp3_rcbuf *name, nghttp3_rcbuf *value, uint8_t,
                      void *userData, void *streamData)
    {
        self(userData)->streamHeader(streamId, bytes(name), bytes(value), streamData);
        return 0;
    }
    static int headersEnded(nghttp3_conn *, int64_t streamId, int fin, void *userData, void *streamData)
    {
        self(userData)->streamHeadersEnded(streamId, fin != 0, streamData);
        return 0;
    }
    static int ended(nghttp3_conn *, int64_t streamId, void *userData, void *streamData)
    {
        self(userData)->streamEnded(streamId, streamData);
        return 0;
    }
    static int stopSending(nghttp3_conn *, int64_t streamId, uint64_t appError, void *userData, void *)
    {
        self(userData)->shutdownRead(streamId, appError);
        return 0;
    }
    static int resetStream(nghttp3_conn *, int64_t streamId, uint64_t appError, void *userData, void *)
    {
        self(userData)->shutdownWrite(streamId, appError);
        return 0;
    }
};

H3Connection::H3Connection(std::shared_ptr<const QuicTls> tls, DatagramOut out, QObject *parent)
    : QObject(parent), m_tls(std::move(tls)), m_out(std::move(out))
{
    ngtcp2_connection_close_error_default(&m_closeError);
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    m_timer->setTimerType(Qt::PreciseTimer);
    connect(m_timer, &QTimer::timeout, this, &H3Connection::onTimer);
}

H3Connection::~H3Connection()
{
    if (m_h3)
        nghttp3_conn_del(m_h3);
    if (m_conn)
        ngtcp2_conn_del(m_conn);
    if (m_session)
        gnutls_deinit(m_session);
}

ngtcp2_callbacks H3Connection::baseCallbacks()
{
    ngtcp2_callbacks cb{};
    cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb.handshake_completed = Callbacks::handshakeCompleted;
    cb.encrypt = ngtcp2_crypto_encrypt_cb;
    cb.decrypt = ngtcp2_crypto_decrypt_cb;
    cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb.recv_stream_data = Callbacks::recvStreamData;
    cb.acked_stream_data_offset = Callbacks::ackedStreamDataOffset;
    cb.stream_close = Callbacks::streamClose;
    cb.stream_reset = Callbacks::streamReset;
    cb.stream_stop_sending = Callbacks::streamStopSending;
    cb.extend_max_remote_streams_bidi = Callbacks::extendMaxRemoteStreamsBidi;
    cb.extend_max_local_streams_bidi = Callbacks::extendMaxLocalStreamsBidi;
    cb.extend_max_stream_data = Callbacks::extendMaxStreamData;
    cb.rand = Callbacks::rand;
    cb.get_new_connection_id = Callbacks::newConnectionId;
    cb.remove_connection_id = Callbacks::removeConnectionId;
    cb.update_key = ngtcp2_crypto_update_key_cb;
    cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    return cb;
}

void H3Connection::fillHttpCallbacks(nghttp3_callbacks *cb)
{
    *cb = nghttp3_callbacks{};
    cb->acked_stream_data = Callbacks::acked;
    cb->stream_close = Callbacks::closed;
    cb->recv_data = Callbacks::data;
    cb->deferred_consume = Callbacks::deferredConsume;
    cb->recv_header = Callbacks::header;
    cb->end_headers = Callbacks::headersEnded;
    cb->end_stream = Callbacks::ended;
    cb->stop_sending = Callbacks::stopSending;
    cb->reset_stream = Callbacks::resetStream;
}

bool H3Connection::attach(ngtcp2_conn *conn, const SocketAddress &local, const SocketAddress &remote)
{
    m_conn = conn;
    m_local = local;
    m_remote = remote;
    m_ref.get_conn = [](ngtcp2_crypto_conn_ref *ref) { return static_cast<H3Connection *>(ref->user_data)->m_conn; };
    m_ref.user_data = this;
    QString error;
    m_session = m_tls->newSession(&m_ref, &error);
    if (!m_session) {
        m_error = error;
        return false;
    }
    ngtcp2_conn_set_tls_native_handle(m_conn, m_session);
    return true;
}

bool H3Connection::bindHttpStreams()
{
    int64_t control = -1;
    int64_t encoder = -1;
    int64_t decoder = -1;
    if (ngtcp2_conn_open_uni_stream(m_conn, &control, nullptr) != 0 ||
        nghttp3_conn_bind_control_stream(m_h3, control) != 0 ||
        ngtcp2_conn_open_uni_stream(m_conn, &encoder, nullptr) != 0 ||
        ngtcp2_conn_open_uni_stream(m_conn, &decoder, nullptr) != 0 ||
        nghttp3_conn_bind_qpack_streams(m_h3, encoder, decoder) != 0) {
        m_error = QStringLiteral("cannot open the HTTP/3 control and QPACK streams (peer allows too few unidirectional streams)");
        return false;
    }
    return true;
}

void H3Connection::receive(const SocketAddress &remote, const std::uint8_t *data, std::size_t size)
{
    if (m_finished || !m_conn)
        return;
    ngtcp2_path path{{const_cast<sockaddr *>(m_local.get()), m_local.length},
                     {const_cast<sockaddr *>(remote.get()), remote.length},
                     nullptr};
    ngtcp2_pkt_info info{};
    m_bytesReceived += static_cast<qint64>(size);
    ++m_inReceive;
    const int rv = ngtcp2_conn_read_pkt(m_conn, &path, &info, data, size, timestamp());
    --m_inReceive;
    if (rv != 0) {
        handleError(rv);
        return;
    }
    afterReceive();
    if (m_handshakeSignalPending) {
        m_handshakeSignalPending = false;
        emit handshakeDone();
    }
    scheduleWrite();
}

bool H3Connection::writeOnce(ngtcp2_tstamp ts, bool *done)
{
    std::uint8_t buffer[kPacketBytes];
    for (;;) {
        int64_t streamId = -1;
        int fin = 0;
        nghttp3_vec vec[16];
        nghttp3_ssize count = 0;
        if (m_h3 && ngtcp2_conn_get_max_data_left(m_conn) > 0) {
            count = nghttp3_conn_writev_stream(m_h3, &streamId, &fin, vec, std::size(vec));
            if (count < 0) {
                closeConnection(nghttp3_err_infer_quic_app_error_code(static_cast<int>(count)));
                return false;
            }
        }
        ngtcp2_ssize written = -1;
        uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
        ngtcp2_path_storage ps;
        ngtcp2_path_storage_zero(&ps);
        ngtcp2_pkt_info info{};
        const ngtcp2_ssize n = ngtcp2_conn_writev_stream(m_conn, &ps.path, &info, buffer, sizeof(buffer), &written,
                                                         flags, streamId, reinterpret_cast<const ngtcp2_vec *>(vec),
                                                         static_cast<size_t>(count), ts);
        if (n < 0) {
            if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
                nghttp3_conn_block_stream(m_h3, streamId);
                continue;
            }
            if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
                nghttp3_conn_shutdown_stream_write(m_h3, streamId);
                continue;
            }
            if (n == NGTCP2_ERR_WRITE_MORE) {
                if (nghttp3_conn_add_write_offset(m_h3, streamId, static_cast<size_t>(written)) != 0)
                    break;
                continue;
            }
            handleError(static_cast<int>(n));
            return false;
        }
        if (written >= 0 && streamId >= 0 && nghttp3_conn_add_write_offset(m_h3, streamId, static_cast<size_t>(written)) != 0)
            break;
        *done = n == 0;
        if (n > 0) {
            m_out(m_remote, buffer, static_cast<std::size_t>(n));
            m_bytesSent += n;
        }
        return true;
    }
    fail(QStringLiteral("HTTP/3 stream accounting failed"));
    return false;
}

void H3Connection::writePackets()
{
    if (m_finished || !m_conn || m_inReceive > 0 || m_closing)
        return;
    const ngtcp2_tstamp ts = timestamp();
    bool done = false;
    for (int i = 0; i < kMaxDatagramsPerWrite && !done; ++i) {
        if (!writeOnce(ts, &done))
            return;
    }
    ngtcp2_conn_update_pkt_tx_time(m_conn, ts);
    if (!done)
        scheduleWrite();
    armTimer();
}

void H3Connection::scheduleWrite()
{
    if (m_writeQueued || m_finished)
        return;
    m_writeQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_writeQueued = false;
            writePackets();
        },
        Qt::QueuedConnection);
}

void H3Connection::armTimer()
{
    const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(m_conn);
    if (expiry == UINT64_MAX) {
        m_timer->stop();
        return;
    }
    const ngtcp2_tstamp now = timestamp();
    const ngtcp2_tstamp delay = expiry > now ? expiry - now : 0;
    // Whole milliseconds, rounded up: never early (a wake-up before the expiry does nothing).
    m_timer->start(static_cast<int>(std::min<ngtcp2_tstamp>((delay + NGTCP2_MILLISECONDS - 1) / NGTCP2_MILLISECONDS,
                                                            24 * 3600 * 1000)));
}

void H3Connection::onTimer()
{
    if (m_finished)
        return;
    const int rv = ngtcp2_conn_handle_expiry(m_conn, timestamp());
    if (rv != 0) {
        handleError(rv);
        return;
    }
    writePackets();
}

void H3Connection::handleError(int rv)
{
    if (m_finished)
        return;
    if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_DROP_CONN || rv == NGTCP2_ERR_IDLE_CLOSE) {
        if (rv == NGTCP2_ERR_IDLE_CLOSE)
            m_error = QStringLiteral("QUIC idle timeout");
        else if (rv == NGTCP2_ERR_DRAINING) {
            ngtcp2_connection_close_error peer{};
            ngtcp2_conn_get_connection_close_error(m_conn, &peer);
            if (peer.error_code != 0 && peer.error_code != NGHTTP3_H3_NO_ERROR)
                m_error = QStringLiteral("closed by the peer: error 0x%1").arg(peer.error_code, 0, 16);
        }
        finish();
        return;
    }
    if (m_closeError.error_code == 0 && m_closeError.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT) {
        if (rv == NGTCP2_ERR_CRYPTO)
            ngtcp2_connection_close_error_set_transport_error_tls_alert(&m_closeError, ngtcp2_conn_get_tls_alert(m_conn),
                                                                        nullptr, 0);
        else
            ngtcp2_connection_close_error_set_transport_error_liberr(&m_closeError, rv, nullptr, 0);
    }
    if (m_error.isEmpty())
        m_error = QStringLiteral("QUIC: %1").arg(QString::fromUtf8(ngtcp2_strerror(rv)));
    closeConnection(m_closeError.error_code, {});
}

void H3Connection::closeConnection(std::uint64_t h3Error, const QByteArray &reason)
{
    if (m_finished || !m_conn)
        return;
    m_closing = true;
    if (!ngtcp2_conn_is_in_closing_period(m_conn) && !ngtcp2_conn_is_in_draining_period(m_conn)) {
        if (m_closeError.error_code == 0 && m_closeError.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT)
            ngtcp2_connection_close_error_set_application_error(
                &m_closeError, h3Error, reinterpret_cast<const uint8_t *>(reason.constData()),
                static_cast<size_t>(reason.size()));
        std::uint8_t buffer[kPacketBytes];
        ngtcp2_path_storage ps;
        ngtcp2_path_storage_zero(&ps);
        ngtcp2_pkt_info info{};
        const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(m_conn, &ps.path, &info, buffer, sizeof(buffer),
                                                                  &m_closeError, timestamp());
        if (n > 0) {
            m_out(m_remote, buffer, static_cast<std::size_t>(n));
            m_bytesSent += n;
        }
    }
    finish();
}

void H3Connection::fail(const QString &message)
{
    if (m_error.isEmpty())
        m_error = message;
    closeConnection(NGHTTP3_H3_INTERNAL_ERROR);
}

void H3Connection::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_timer->stop();
    connectionEnded();
    emit finished();
}

ngtcp2_conn_stat H3Connection::stat() const
{
    ngtcp2_conn_stat s{};
    if (m_conn)
        ngtcp2_conn_get_conn_stat(m_conn, &s);
    return s;
}

void H3Connection::shutdownRead(std::int64_t streamId, std::uint64_t appError)
{
    ngtcp2_conn_shutdown_stream_read(m_conn, streamId, appError);
}

void H3Connection::shutdownWrite(std::int64_t streamId, std::uint64_t appError)
{
    ngtcp2_conn_shutdown_stream_write(m_conn, streamId, appError);
}

void H3Connection::streamAcked(std::int64_t, std::uint64_t, void *) {}
void H3Connection::streamClosed(std::int64_t, std::uint64_t, void *) {}
void H3Connection::streamHeader(std::int64_t, const QByteArray &, const QByteArray &, void *) {}
void H3Connection::streamHeadersEnded(std::int64_t, bool, void *) {}
void H3Connection::streamData(std::int64_t, const std::uint8_t *, std::size_t, void *) {}
void H3Connection::streamEnded(std::int64_t, void *) {}

} // namespace edgesse::quic
