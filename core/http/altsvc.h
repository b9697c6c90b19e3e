#pragma once

#include <QByteArray>

#include <chrono>
#include <optional>

namespace edgesse::http {

// An alternative service for HTTP/3 (RFC 7838 §3): where the same origin is served over
// QUIC. An empty host is the origin's own.
struct AltService {
    QByteArray host;
    quint16 port = 0;
    std::chrono::seconds maxAge{86400};
};

struct AltSvcField {
    bool clear = false;             // `clear`: forget every alternative of the origin
    std::optional<AltService> h3;   // the first well-formed `h3` alternative
};

// Reads an Alt-Svc field value, e.g. `h3=":4433"; ma=3600, h2=":443"`. Anything malformed,
// or an alternative for another protocol, is skipped; nothing here throws or allocates
// beyond the result.
AltSvcField parseAltSvc(const QByteArray &value);

} // namespace edgesse::http
