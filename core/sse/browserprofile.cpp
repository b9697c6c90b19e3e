#include "core/sse/browserprofile.h"

#include <array>

namespace edgesse::sse {

namespace {

using std::chrono::milliseconds;

// Blink: EventSource::kDefaultReconnectDelay = 3000, DidReceiveResponse aborts on a charset
// other than UTF-8; net/: 6 sockets a group, 100 streams assumed until SETTINGS, 256 at most.
// Gecko: DEFAULT_RECONNECTION_TIME_VALUE 5000 (pref dom.server-events.default-reconnection-time),
// MIN_RECONNECTION_TIME_VALUE 500, content type compared without its parameters.
// WebKit: EventSource::defaultReconnectDelay = 3000, aborts on a charset other than UTF-8.
// Early data: Chromium's net/base/features.cc has EnableTLS13EarlyData disabled by default;
// Gecko's StaticPrefList.yaml has security.tls.enable_0rtt_data true; WebKit's is unmeasured
// here (off).
constexpr std::array kProfiles{
    BrowserProfile{"chromium", Engine::Chromium, milliseconds(3000), milliseconds(0), 6, 100, 256, true, false},
    BrowserProfile{"firefox", Engine::Firefox, milliseconds(5000), milliseconds(500), 6, 100, 256, false, true},
    BrowserProfile{"safari", Engine::WebKit, milliseconds(3000), milliseconds(0), 6, 100, 256, true, false},
};

} // namespace

const BrowserProfile &browserProfile(Engine engine)
{
    for (const BrowserProfile &p : kProfiles)
        if (p.engine == engine)
            return p;
    return kProfiles[0];
}

std::span<const BrowserProfile> browserProfiles() { return kProfiles; }

} // namespace edgesse::sse
