#pragma once

#include <QStringList>

// The keys each mapping of the language accepts; anything else is reported with the
// closest of them.
namespace edgesse::scenario::loader {

extern const QStringList kVariantKeys; // what a variant may override
extern const QStringList kTopLevelKeys;
extern const QStringList kVariantItemKeys;
extern const QStringList kNodeKeys;
extern const QStringList kClientKeys;
extern const QStringList kReconnectKeys;
extern const QStringList kLinkKeys;
extern const QStringList kGatewayKeys;
extern const QStringList kFaultKeys;
extern const QStringList kPublisherKeys;
extern const QStringList kSseKeys;
extern const QStringList kPricingKeys;

} // namespace edgesse::scenario::loader
