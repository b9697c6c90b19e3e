#include "core/link/lossmodel.h"

#include <algorithm>

namespace edgesse::link {

LossModel::LossModel(const LinkSettings &settings, std::uint64_t seed)
    : m_probability(settings.lossProbability)
    , m_burst(settings.lossPattern == LossPattern::Burst && settings.burstLength > 1.0)
    , m_random(seed)
{
    if (m_burst) {
        // Stationary share of the bad state q / (q + r) = p, with r = 1 / burst.
        m_leaveBad = 1.0 / settings.burstLength;
        m_enterBad = std::min(1.0, m_probability * m_leaveBad / (1.0 - m_probability));
    }
}

bool LossModel::lost()
{
    if (m_probability <= 0)
        return false;
    if (!m_burst)
        return m_random.uniform() < m_probability;
    m_bad = m_bad ? m_random.uniform() >= m_leaveBad : m_random.uniform() < m_enterBad;
    return m_bad;
}

} // namespace edgesse::link
