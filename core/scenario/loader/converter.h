#pragma once

#include "core/scenario/loader/report.h"
#include "core/scenario/loader/tree.h"

#include <yaml-cpp/yaml.h>

namespace edgesse::scenario::loader {

// yaml-cpp's document as the loader's tree. Duplicate keys, non-scalar keys, nesting beyond
// kMaxDepth and expansion beyond kMaxValues are reported; the tree keeps what came before.
Value convertDocument(const YAML::Node &document, Report &report);

} // namespace edgesse::scenario::loader
