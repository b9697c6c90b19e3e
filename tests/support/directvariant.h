#pragma once

// Test and bench support: the smallest topology, one client group straight to its origin
// over one link. The caller sets the publisher, timings and anything else it measures.

#include "core/scenario/scenario.h"

#include <chrono>

namespace edgesse::testing {

inline scenario::Variant directVariant(const QString &name, const QString &groupName, scenario::Protocol protocol,
                                       qint64 browsers, int streamsPerBrowser, std::chrono::microseconds latency)
{
    scenario::Variant v;
    v.name = name;
    v.placement = scenario::Placement::Central;
    v.protocol = protocol;
    scenario::Node origin;
    origin.name = QStringLiteral("origin");
    origin.kind = scenario::NodeKind::Origin;
    v.nodes = {origin};
    scenario::ClientGroup group;
    group.name = groupName;
    group.count = browsers;
    group.near = origin.name;
    group.streams = streamsPerBrowser;
    v.clients = {group};
    scenario::Link link;
    link.a = group.name;
    link.b = origin.name;
    link.latency = latency;
    v.links = {link};
    return v;
}

} // namespace edgesse::testing
