#pragma once

// Test support for HTTP/3: a ResponseHandler that records a response, and the run's TLS
// identity loaded for QUIC.

#include "core/http/httpclient.h"
#include "core/quic/quictls.h"
#include "core/tls/tlsidentity.h"

#include <QByteArray>
#include <QString>

#include <chrono>
#include <memory>
#include <optional>

namespace edgesse::testing {

struct QuicIdentity {
    std::shared_ptr<const tls::TlsIdentity> tls;
    std::shared_ptr<const quic::QuicTls> server;
    std::shared_ptr<const quic::QuicTls> client;
    QString error;

    static QuicIdentity make()
    {
        QuicIdentity id;
        id.tls = tls::TlsIdentity::make(nullptr, &id.error);
        if (!id.tls)
            return id;
        id.server = quic::QuicTls::server(id.tls->credentials.certificatePem, id.tls->credentials.privateKeyPem, &id.error);
        id.client = quic::QuicTls::client(id.tls->credentials.caCertificatePem, &id.error);
        return id;
    }
};

class RecordingResponse final : public http::ResponseHandler
{
public:
    void requestStarted(const http::StartInfo &info) override { started = info; }
    void responseHeadReceived(const http::ResponseHead &h) override
    {
        head = h;
        headAt = http::Clock::now();
    }
    void responseDataReceived(const char *data, std::size_t size) override
    {
        if (body.isEmpty())
            firstDataAt = http::Clock::now();
        body.append(data, static_cast<qsizetype>(size));
    }
    void responseCompleted() override { completed = true; }
    void responseFailed(http::ClientError e, const QString &message) override
    {
        error = e;
        errorMessage = message;
    }
    bool done() const { return completed || error.has_value(); }

    std::optional<http::StartInfo> started;
    http::ResponseHead head;
    http::Clock::time_point headAt;
    http::Clock::time_point firstDataAt;
    QByteArray body;
    bool completed = false;
    std::optional<http::ClientError> error;
    QString errorMessage;
};

} // namespace edgesse::testing
