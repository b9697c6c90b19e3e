#pragma once

#include "core/http/httpserverexchange.h"

#include <QObject>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>


namespace edgesse::http {

class HttpServer;
class HttpServerSocket;
class Http1ServerExchange;

// One accepted connection until its protocol is known, then one HTTP/1.1 connection.
// Request heads are parsed by Boost.Beast's parser fed from the socket's bytes; when the
// first bytes are the HTTP/2 connection preface the socket is handed to HttpServer for
// HTTP/2. Requests are served one at a time (pipelined ones wait in the input buffer).
class Http1ServerConnection final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Http1ServerConnection)

public:
    Http1ServerConnection(HttpServer &server, HttpServerSocket *socket, bool reject);
    ~Http1ServerConnection() override;

    // Server shutdown: aborts the exchange in progress and closes the socket now.
    void shutdown();

private:
    friend class Http1ServerExchange;
    enum class State { Waiting, Handling, Closing };
    struct Parser;

    void onReadyRead();
    void processInput();
    void dispatch();
    void exchangeFinished(bool keepAlive);
    void failRequest(int status, QByteArrayView why);
    qint64 write(const QByteArray &bytes);
    void closeAfterWrite();
    void closeSoon();
    void closeNow();
    void armIdleDeadline();
    // Waiting for a request (none begun): closed, and `expired` counted, after `timeout`.
    void armWaitDeadline(std::chrono::milliseconds timeout, std::atomic<qint64> &expired);
    void armHeaderDeadline();
    void cancelDeadline();
    void updateQueued();
    void onBytesWritten();
    void dropSlowConsumer();

    HttpServer &m_server;
    HttpServerSocket *m_socket = nullptr;
    QByteArray m_in;
    std::unique_ptr<Parser> m_parser;
    std::unique_ptr<Http1ServerExchange> m_exchange;
    std::uint64_t m_deadline = 0;
    qint64 m_reportedQueued = 0;
    State m_state = State::Waiting;
    bool m_reject = false;
    bool m_sniffing = true;
    bool m_inProcess = false;
    bool m_headerDeadline = false;
    bool m_closed = false;
    bool m_aboveLowWater = false;
};

} // namespace edgesse::http
