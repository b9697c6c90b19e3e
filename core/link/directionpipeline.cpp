#include "core/link/directionpipeline.h"

namespace edgesse::link {

DirectionPipeline::DirectionPipeline(const LinkSettings &settings, std::uint64_t seed, TokenBucket *bucket,
                                     std::size_t paceBytes)
    : m_bucket(bucket && bucket->limited() ? bucket : nullptr)
    , m_paceBytes(paceBytes)
    , m_propagation(settings.latency, settings.distribution, settings.jitter, deriveSeed(seed, 0))
    , m_loss(settings, deriveSeed(seed, 1))
    , m_retransmission(settings)
    , m_linux(settings.lossRecovery == LossRecovery::Linux)
{
}

int DirectionPipeline::lostTransmissions()
{
    if (!m_loss.lost())
        return 0;
    if (!m_linux)
        return 1;
    // The retransmissions cross the same line; at most 6 tries are modelled.
    int losses = 1;
    while (losses < 6 && m_loss.lost())
        ++losses;
    return losses;
}

} // namespace edgesse::link
