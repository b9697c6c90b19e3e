#pragma once

#include "core/http/serverconnection.h"

#include <memory>

namespace edgesse::http {

class Http1ServerExchange;

// One HTTP/1.1 connection. Request heads are parsed by Boost.Beast's parser fed from the
// socket's bytes. Requests are served one at a time (pipelined ones wait in the input buffer).
class Http1ServerConnection final : public ServerConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Http1ServerConnection)

public:
    Http1ServerConnection(ConnectionContext &context, HttpServerSocket *socket, bool reject, QObject *parent);
    ~Http1ServerConnection() override;

    void start(const DetectedProtocol &detected) override;
    void shutdown() override { closeNow(); }

private:
    friend class Http1ServerExchange;
    enum class State { Waiting, Handling, Closing };
    struct Parser;

    void abortExchanges() override;
    void onReadyRead();
    void processInput();
    void dispatch();
    void exchangeFinished(bool keepAlive);
    void failRequest(int status, QByteArrayView why);
    void headTimedOut();
    qint64 write(const QByteArray &bytes);
    void closeAfterResponse();
    void armIdleDeadline();
    void armHeaderDeadline();
    void updateQueued();

    QByteArray m_in;
    std::unique_ptr<Parser> m_parser;
    std::unique_ptr<Http1ServerExchange> m_exchange;
    qint64 m_queued = 0;
    State m_state = State::Waiting;
    bool m_inProcess = false;
    bool m_headerDeadline = false;
};

} // namespace edgesse::http
