#pragma once

#include "core/scenario/loader/report.h"

#include <string>

namespace edgesse::scenario::loader {

// Walks the document's parse events without building a tree, so a huge or deeply nested
// file costs no more memory than its text. Reports the first value past kMaxDocumentValues
// or kMaxDepth where it was written and returns false; true when within both (syntax errors
// are left to the full parse, which reports them).
bool withinBudget(const std::string &text, Report &report);

} // namespace edgesse::scenario::loader
