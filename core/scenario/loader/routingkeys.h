#pragma once

#include "core/scenario/loader/reader.h"
#include "core/scenario/scenario.h"

#include <QHash>

// A node's routing keys (instances, balance, autoscale, faults, fallback, re_resolution):
// read beside the node's other keys, checked once every node and link is known.
namespace edgesse::scenario::loader {

extern const QStringList kRoutingNodeKeys;

void readRouting(Reader &read, const Value &spec, Node &node);
// Fallback names that exist and are PoPs, links from each population to its fallbacks, and
// what hash balancing needs (the client id an HTTP/1.1 request carries in cleartext).
void checkRouting(Reader &read, const Variant &v, const QHash<QString, const Value *> &nodeValues);

} // namespace edgesse::scenario::loader
