#include "core/sim/clientgroupconfig.h"

namespace edgesse::sim {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

const sse::BrowserProfile &browserProfile(scenario::BrowserKind browser)
{
    switch (browser) {
    case scenario::BrowserKind::Chromium: return sse::browserProfile(sse::Engine::Chromium);
    case scenario::BrowserKind::Firefox: return sse::browserProfile(sse::Engine::Firefox);
    case scenario::BrowserKind::Safari: return sse::browserProfile(sse::Engine::WebKit);
    }
    return sse::browserProfile(sse::Engine::Chromium);
}

std::optional<sse::ReconnectPolicy> reconnectPolicy(const std::optional<scenario::ReconnectPolicy> &policy)
{
    if (!policy)
        return std::nullopt;
    sse::ReconnectPolicy p;
    p.backoff = policy->backoff == scenario::Backoff::Exponential ? sse::ReconnectPolicy::Backoff::Exponential
                                                                  : sse::ReconnectPolicy::Backoff::None;
    if (policy->base)
        p.base = duration_cast<milliseconds>(*policy->base);
    p.max = duration_cast<milliseconds>(policy->max);
    switch (policy->jitter) {
    case scenario::ReconnectJitter::None: p.jitter = sse::ReconnectPolicy::Jitter::None; break;
    case scenario::ReconnectJitter::Full: p.jitter = sse::ReconnectPolicy::Jitter::Full; break;
    case scenario::ReconnectJitter::Equal: p.jitter = sse::ReconnectPolicy::Jitter::Equal; break;
    }
    return p;
}

void applyClientGroup(const scenario::ClientGroup &group, sse::Browser::Config &config)
{
    config.applyProfile(browserProfile(group.browser));
    config.maxConnectionsPerOrigin = group.connectionsPerOrigin;
    config.stream.reconnectPolicy = reconnectPolicy(group.reconnect);
    config.stream.fetchClient = group.client == scenario::ClientApi::Fetch;
    if (group.earlyData)
        config.tlsEarlyData = *group.earlyData;
}

} // namespace edgesse::sim
