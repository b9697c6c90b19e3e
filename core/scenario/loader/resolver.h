#pragma once

#include "core/scenario/loader/reader.h"
#include "core/scenario/loader/tree.h"
#include "core/scenario/scenario.h"

#include <optional>

// Resolution of one merged variant tree.
namespace edgesse::scenario::loader {

// The Variant `tree` describes, or nullopt when it has problems (each reported). `label`
// names the variant as written (before a sweep), for problems every swept combination
// shares; `variantItem` is its variants[i] entry, if any.
std::optional<Variant> resolveVariant(Reader &reader, const Value &tree, const QString &name, const QString &label,
                                      const Value *variantItem);

} // namespace edgesse::scenario::loader
