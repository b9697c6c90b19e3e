#pragma once

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"

namespace edgesse::sim {

// Time dilation: a variant run `scale` times slower than the world it models, so the
// machine's own fixed cost per operation shrinks `scale` times relative to the modelled
// times, and its result read back in modelled time.
//
// dilated(): every modelled duration × scale (link latency, jitter, RTO, gateway timeouts,
// faults, heartbeat, retry, poll intervals and timeouts, reconnect backoff, maximum stream
// durations, warm-up, arrival spread, duration), every rate ÷ scale (publisher rate, link
// bandwidth). Sizes and counts stay as they are; Variant::timeScale says the scale, so the
// engine's own timers (server request/header/idle timeouts, a relay's re-count) stretch
// with it. `scale` ≥ 1.
scenario::Variant dilated(scenario::Variant variant, double scale);

// A result measured on dilated(variant, scale) in the modelled world's time: latencies, time
// to first event, overhead and every duration ÷ scale, per-second rates × scale, time-based
// cost (connection-hours, GB-seconds) ÷ scale; counts and bytes as they are. Records the
// scale and the measured window's wall time (timeScale, wallS).
void toModelledTime(metrics::VariantResult &result, double scale);

} // namespace edgesse::sim
