#include "core/http/protocoldetector.h"

#include "core/http/httpserversocket.h"
#include "core/tls/tlscontext.h"

namespace edgesse::http {

namespace {

const QByteArray kHttp2Preface = QByteArrayLiteral("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
constexpr char kTlsHandshakeRecord = 0x16;

} // namespace

ProtocolDetector::ProtocolDetector(ConnectionContext &context, HttpServerSocket *socket, bool reject,
                                   QObject *parent)
    : ServerConnection(context, socket, reject, parent)
{
    connect(socket, &HttpServerSocket::readyRead, this, &ProtocolDetector::onReadyRead);
    // Nothing has arrived yet: closed if no request begins within the request timeout.
    armDeadline(limits().requestTimeout, [this] {
        counters().requestTimeouts.fetch_add(1, std::memory_order_relaxed);
        closeNow();
    });
}

ProtocolDetector::~ProtocolDetector() = default;

void ProtocolDetector::start(const DetectedProtocol &detected)
{
    m_in = detected.received;
    decide();
}

void ProtocolDetector::onReadyRead()
{
    if (isClosed())
        return;
    if (readAvailable([this](const char *data, qsizetype size) { m_in.append(data, size); }))
        decide();
}

void ProtocolDetector::decide()
{
    if (isClosed())
        return;
    HttpServerSocket *s = socket();
    if (!s->isTls() && !m_in.isEmpty() && m_in.front() == kTlsHandshakeRecord && context().tls()) {
        s->startTls(*context().tls(), std::exchange(m_in, {}));
        armDeadline(limits().headerTimeout, [this] { closeNow(); });
        // The plaintext comes with the next readyRead — or came as early data with the ClientHello.
        if (!s->hasEarlyData() || !readAvailable([this](const char *data, qsizetype size) { m_in.append(data, size); }))
            return;
    }
    if (s->isTls() && s->alpn() == "h2") {
        handOver(WireProtocol::Http2);
        return;
    }
    if (m_in.isEmpty())
        return;
    const qsizetype n = std::min(m_in.size(), kHttp2Preface.size());
    if (QByteArrayView(m_in).first(n) != QByteArrayView(kHttp2Preface).first(n)) {
        handOver(WireProtocol::Http1);
    } else if (m_in.size() >= kHttp2Preface.size()) {
        handOver(WireProtocol::Http2);
    } else if (!m_headStarted) {
        m_headStarted = true;
        armDeadline(limits().headerTimeout, [this] { handOver(WireProtocol::Http1, true); });
    }
}

void ProtocolDetector::handOver(WireProtocol protocol, bool headTimedOut)
{
    HttpServerSocket *taken = releaseSocket();
    context().protocolDetected(taken, {protocol, std::move(m_in), headTimedOut}, rejecting());
}

} // namespace edgesse::http
