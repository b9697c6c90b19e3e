#pragma once

#include "app/gui/codeeditor.h"
#include "app/gui/topologymodel.h"
#include "app/gui/variantlist.h"

#include <QList>

namespace edgesse::scenario {
struct Diagnostic;
struct Scenario;
struct Variant;
} // namespace edgesse::scenario

namespace edgesse::gui {

// The scenario as the views need it.
TopologyModel topologyOf(const scenario::Variant &variant);
QList<VariantEntry> variantEntriesOf(const scenario::Scenario &scenario);
QList<TextMark> textMarksOf(const QList<scenario::Diagnostic> &diagnostics);

} // namespace edgesse::gui
