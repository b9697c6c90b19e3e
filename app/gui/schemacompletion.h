#pragma once

#include <QByteArray>
#include <QStringList>

namespace edgesse::gui {

// What the editor completes, from the scenario's JSON schema: every key (as "key") and
// every enum value, sorted and without duplicates.
QStringList schemaWords(const QByteArray &schemaJson);

// The words of the schema bundled with the app (":/edgesse/edgesse.schema.json").
QStringList bundledSchemaWords();

} // namespace edgesse::gui
