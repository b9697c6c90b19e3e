#include "core/link/linksettings.h"

#include <algorithm>
#include <cmath>

namespace edgesse::link {

std::chrono::microseconds LinkSettings::retransmissionTimeout() const
{
    return std::max<std::chrono::microseconds>(rto, roundTrip() + 4 * jitter);
}

std::uint64_t LinkSettings::effectiveMaxBufferedBytes() const
{
    if (maxBufferedBytes > 0)
        return maxBufferedBytes;
    // Enough to keep the link busy for two round trips (an unlimited link is taken as
    // 1 GB/s), between 256 KiB and 8 MiB.
    constexpr std::uint64_t kMin = 256 * 1024;
    constexpr std::uint64_t kMax = 8 * 1024 * 1024;
    const double bytesPerSecond = bandwidthBitsPerSecond > 0 ? static_cast<double>(bandwidthBitsPerSecond) / 8.0 : 1e9;
    const double seconds = 2.0 * std::chrono::duration<double>(roundTrip() + 2 * jitter).count();
    const auto wanted = static_cast<std::uint64_t>(bytesPerSecond * seconds);
    return std::clamp(wanted + kMin, kMin, kMax);
}

QString LinkSettings::validationError() const
{
    using namespace std::chrono_literals;
    if (latency < 0us)
        return QStringLiteral("link latency is negative (%1 us); use 0 or more").arg(latency.count());
    if (jitter < 0us)
        return QStringLiteral("link jitter is negative (%1 us); use 0 or more").arg(jitter.count());
    if (!(lossProbability >= 0.0 && lossProbability < 1.0))
        return QStringLiteral("link loss %1 is outside [0, 1); give a probability such as 0.01 for 1%")
            .arg(lossProbability);
    if (rto < kMinRetransmissionTimeout)
        return QStringLiteral("link rto %1 ms is below Linux's 200 ms minimum; use 200ms or more")
            .arg(static_cast<double>(rto.count()) / 1000.0);
    if (lossPattern == LossPattern::Burst && !(burstLength >= 1.0))
        return QStringLiteral("link loss burst %1 is below one segment; give the mean run of lost segments, 1 or more")
            .arg(burstLength);
    if (idleTimeout && *idleTimeout <= 0us)
        return QStringLiteral("link idle timeout must be positive; leave it out for none");
    if (maxDuration && *maxDuration <= 0us)
        return QStringLiteral("link max duration must be positive; leave it out for none");
    return {};
}

} // namespace edgesse::link
