#pragma once

#include <QString>
#include <QUrl>

namespace edgesse::sim {

// An address `serve` prints: a node's own URL, or the URL a client population's browsers
// use (through its link).
struct Endpoint {
    QString name;
    QUrl url;
    QUrl secureUrl; // the same over HTTPS (every node also speaks TLS on its port)
};

} // namespace edgesse::sim
