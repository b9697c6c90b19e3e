#pragma once

#include <QtGlobal>

// What the loader accepts at most: each bound keeps a hostile file from costing unbounded
// time or memory, and each is named in the message that enforces it.
namespace edgesse::scenario::loader {

constexpr int kMaxDepth = 64;
constexpr int kMaxValues = 200'000; // bounds alias expansion ("billion laughs")
constexpr int kMaxVariants = 256;
constexpr qint64 kMaxSeed = (qint64(1) << 53) - 1; // exact in JSON

} // namespace edgesse::scenario::loader
