#pragma once

#include "core/link/jitter.h"
#include "core/link/linksettings.h"

namespace edgesse::link {

// Which segments the line drops. Independent: each with the link's probability. Burst
// (Gilbert-Elliott with a lossless good state and a lossy bad state, as netem's `gemodel`
// with 1-h = 1, 1-k = 0): a bad spell lasts `burstLength` segments on average and the long-run
// loss rate stays the link's probability, so losses come in runs as on radio links.
class LossModel
{
public:
    LossModel(const LinkSettings &settings, std::uint64_t seed);

    bool enabled() const { return m_probability > 0; }
    bool lost();
    // Probability of entering / leaving the bad state per segment (burst model).
    double enterBad() const { return m_enterBad; }
    double leaveBad() const { return m_leaveBad; }

private:
    double m_probability = 0;
    bool m_burst = false;
    double m_enterBad = 0;
    double m_leaveBad = 1;
    bool m_bad = false;
    Random m_random;
};

} // namespace edgesse::link
