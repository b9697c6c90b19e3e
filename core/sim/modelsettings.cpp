#include "core/sim/modelsettings.h"

#include <algorithm>

namespace edgesse::sim {

link::LinkSettings linkSettings(const scenario::Link &l, std::uint64_t seed)
{
    link::LinkSettings s;
    s.latency = l.latency;
    s.jitter = l.jitter;
    switch (l.jitterDistribution) {
    case scenario::JitterDistribution::Uniform: s.distribution = link::JitterDistribution::Uniform; break;
    case scenario::JitterDistribution::Normal: s.distribution = link::JitterDistribution::Normal; break;
    case scenario::JitterDistribution::Pareto: s.distribution = link::JitterDistribution::Pareto; break;
    }
    s.seed = seed;
    s.bandwidthBitsPerSecond = std::uint64_t(std::max<qint64>(l.bandwidthBitsPerSecond, 0));
    s.lossProbability = l.loss;
    switch (l.lossRecovery) {
    case scenario::LossRecovery::Linux: s.lossRecovery = link::LossRecovery::Linux; break;
    case scenario::LossRecovery::FastRetransmit: s.lossRecovery = link::LossRecovery::FastRetransmit; break;
    case scenario::LossRecovery::Timeout: s.lossRecovery = link::LossRecovery::Timeout; break;
    }
    s.lossPattern = l.lossModel == scenario::LossModel::Burst ? link::LossPattern::Burst : link::LossPattern::Independent;
    s.burstLength = l.lossBurst;
    s.rto = l.rto;
    // Real TLS crosses the link (its handshake round trips are real), so the link does not
    // add the emulated one too.
    s.tls = false;
    s.realTls = l.tls;
    if (l.gateway) {
        s.idleTimeout = l.gateway->idleTimeout;
        s.maxDuration = l.gateway->maxDuration;
    }
    return s;
}

PublishSettings publishSettings(const scenario::Publisher &p, std::uint64_t seed)
{
    PublishSettings s;
    switch (p.pattern) {
    case scenario::PublishPattern::Constant: s.pattern = PublishPattern::Constant; break;
    case scenario::PublishPattern::Poisson: s.pattern = PublishPattern::Poisson; break;
    case scenario::PublishPattern::Bursty: s.pattern = PublishPattern::Bursty; break;
    }
    s.eventsPerSecond = p.rate;
    s.burstSize = std::max(p.burstSize, 1);
    s.seed = seed;
    return s;
}

} // namespace edgesse::sim
