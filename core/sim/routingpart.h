#pragma once

#include "core/routing/instancepool.h"
#include "core/scenario/scenario.h"
#include "core/tls/tlscontext.h"

#include <QByteArray>

#include <memory>

namespace edgesse::net {
class DeadlineQueue;
}

namespace edgesse::sim {

// A routed node's instance pool (core/routing) whose instances are the node's own servers:
// each a ServerPart and, for a PoP, a RelayPart subscribing through the PoP's upstream link
// (`upstreamPort`). Made on the node's thread.
struct PoolSpec {
    const scenario::Variant *variant = nullptr;
    const scenario::Node *node = nullptr;
    const scenario::SseSettings *sse = nullptr;
    scenario::Protocol protocol = scenario::Protocol::Http1;
    std::shared_ptr<const tls::TlsContext> serverTls;
    quint16 upstreamPort = 0; // 0 for an origin
    std::shared_ptr<const tls::TlsContext> upstreamTls;
    QByteArray upstreamPath = QByteArrayLiteral("/events");
    std::uint64_t seed = 1;
    double timeScale = 1; // the variant's (servers' own timeouts stretch with it)
};

std::unique_ptr<routing::InstancePool> makeInstancePool(const PoolSpec &spec, net::DeadlineQueue &deadlines);

} // namespace edgesse::sim
