#pragma once

#include "core/scenario/scenario.h"
#include "core/sse/browser.h"

namespace edgesse::sim {

const sse::BrowserProfile &browserProfile(scenario::BrowserKind browser);
std::optional<sse::ReconnectPolicy> reconnectPolicy(const std::optional<scenario::ReconnectPolicy> &policy);

// What a population's browsers follow: their profile, the page's client API and its
// reconnect policy, and the population's own connections per origin.
void applyClientGroup(const scenario::ClientGroup &group, sse::Browser::Config &config);

} // namespace edgesse::sim
