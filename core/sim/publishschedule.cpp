#include "core/sim/publishschedule.h"

#include <algorithm>
#include <cmath>

namespace edgesse::sim {

PublishSchedule::PublishSchedule(const PublishSettings &settings)
    : m_settings(settings)
    , m_random(settings.seed)
{
    m_settings.eventsPerSecond = std::max(m_settings.eventsPerSecond, 1e-9);
    m_settings.burstSize = std::max(m_settings.burstSize, 1);
}

std::chrono::nanoseconds PublishSchedule::nextGap()
{
    const double meanGapNs = 1e9 / m_settings.eventsPerSecond;
    double gapNs = meanGapNs;
    switch (m_settings.pattern) {
    case PublishPattern::Constant:
        break;
    case PublishPattern::Poisson: {
        std::exponential_distribution<double> exponential(1.0 / meanGapNs);
        gapNs = exponential(m_random);
        break;
    }
    case PublishPattern::Bursty: {
        const auto burst = static_cast<std::uint64_t>(m_settings.burstSize);
        // The first event of every burst waits a whole burst period; the rest follow at once.
        gapNs = (m_emitted % burst == 0) ? meanGapNs * static_cast<double>(burst) : 0.0;
        break;
    }
    }
    ++m_emitted;
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(gapNs)));
}

QByteArray payloadOfSize(std::int64_t bytes)
{
    QByteArray data(static_cast<qsizetype>(std::max<std::int64_t>(bytes, 0)), Qt::Uninitialized);
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    for (qsizetype i = 0; i < data.size(); ++i)
        data[i] = kAlphabet[i % (sizeof kAlphabet - 1)];
    return data;
}

} // namespace edgesse::sim
