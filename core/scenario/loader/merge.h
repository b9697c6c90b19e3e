#pragma once

#include "core/scenario/loader/tree.h"

#include <QList>
#include <QString>

#include <optional>
#include <vector>

// Variants: deep merge and sweeps.
namespace edgesse::scenario::loader {

// Overlays `overlay` on `base`: mappings merge key by key, lists of clients by name and
// lists of links by their two endpoints; anything else is replaced.
void deepMerge(Value &base, const Value &overlay);

struct SweepDimension {
    QString path;  // as written: sse.heartbeat, clients[berlin].count
    QString label; // short form for generated names
    int line = 0;
    int column = 0;
    std::vector<Value> values;
};

struct Segment {
    QString key;
    std::optional<QString> selector; // [0] or [name]
};

// sse.heartbeat, clients[berlin].count → its segments; nullopt when it is not a key path.
std::optional<QList<Segment>> parseSweepPath(const QString &path);
// Sets the value at a sweep path inside a merged variant tree. Returns an error or empty.
QString setAtPath(Value &root, const QList<Segment> &segments, const Value &value, const SweepDimension &dim);

} // namespace edgesse::scenario::loader
