#pragma once

#include "core/http/serverconnection.h"

namespace edgesse::http {

// An accepted connection until its protocol is known. A TLS ClientHello (when the server
// has a certificate) starts TLS; then ALPN `h2` means HTTP/2. Otherwise the first bytes are
// the HTTP/2 connection preface (h2c with prior knowledge) or they are not (HTTP/1.1). Hands the
// socket and what it read to ConnectionContext::protocolDetected(). A peer that sends part
// of the preface and stops is handed to HTTP/1.1 with its head timed out (408).
class ProtocolDetector final : public ServerConnection
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProtocolDetector)

public:
    ProtocolDetector(ConnectionContext &context, HttpServerSocket *socket, bool reject, QObject *parent);
    ~ProtocolDetector() override;

    void start(const DetectedProtocol &detected) override;
    void shutdown() override { closeNow(); }

private:
    void onReadyRead();
    void decide();
    void handOver(WireProtocol protocol, bool headTimedOut = false);

    QByteArray m_in;
    bool m_headStarted = false;
};

} // namespace edgesse::http
