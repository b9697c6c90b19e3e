#include "core/sim/timescalesearch.h"

#include <algorithm>
#include <cmath>

namespace edgesse::sim {

namespace {

constexpr std::chrono::seconds kCalibrationSeconds{2};
// At scale N a calibration takes N times its modelled length in wall time: above scale 1 the
// warm-up is cut to about this much wall time (at least the floor), and the measured window
// too, but never below the whole publisher periods that give about kCalibrationDeliveries
// measured deliveries.
constexpr std::chrono::seconds kCalibrationWallSeconds{4};
constexpr std::chrono::milliseconds kCalibrationFloor{250};
constexpr double kCalibrationDeliveries = 1000;

QString scaleText(double scale)
{
    return QString::number(scale, 'g', 6);
}

} // namespace

TimeScaleSearch::TimeScaleSearch(double toleranceMs)
    : m_tolerance(toleranceMs)
{
}

void TimeScaleSearch::measured(double scale, std::uint64_t samples, double errorP99Ms)
{
    if (m_decided)
        return;
    ++m_runs;
    if (samples == 0) {
        decide(1, QStringLiteral("no event's error could be measured in calibration (polling, TLS or a real browser "
                                 "only): running at scale 1"));
        return;
    }
    if (!m_steps.isEmpty())
        m_steps += QStringLiteral(", ");
    m_steps += QStringLiteral("x%1: %2 ms").arg(scaleText(scale)).arg(errorP99Ms, 0, 'f', 3);
    if (errorP99Ms <= m_tolerance) {
        decide(scale, QStringLiteral("error p99 within the %1 ms tolerance at scale %2 (calibration %3)")
                          .arg(m_tolerance, 0, 'g', 6).arg(scaleText(scale), m_steps));
        return;
    }
    if (scale >= kMaxScale) {
        decide(kMaxScale, QStringLiteral("error p99 still above the %1 ms tolerance at the largest scale %2 (calibration "
                                         "%3): the figures will be marked untrusted; run fewer streams")
                              .arg(m_tolerance, 0, 'g', 6).arg(scaleText(kMaxScale), m_steps));
        return;
    }
    const double wanted = std::ceil(scale * errorP99Ms / m_tolerance * kMargin);
    const double nextScale = std::clamp(wanted, scale + 1, kMaxScale);
    if (m_runs >= kMaxCalibrations) {
        decide(nextScale, QStringLiteral("after %1 calibrations (%2) the error p99 was still above the %3 ms tolerance: "
                                         "running at scale %4, estimated from the last one")
                              .arg(m_runs).arg(m_steps).arg(m_tolerance, 0, 'g', 6).arg(scaleText(nextScale)));
        return;
    }
    m_next = nextScale;
}

void TimeScaleSearch::decide(double scale, QString reason)
{
    m_decided = true;
    m_chosen = scale;
    m_reason = std::move(reason);
}

scenario::Variant calibrationVariant(scenario::Variant v, double scale)
{
    using us = std::chrono::microseconds;
    const us limit = std::chrono::duration_cast<us>(kCalibrationSeconds);
    us warmup = limit, duration = limit;
    if (scale > 1) {
        const double streams = double(std::max<qint64>(1, v.totalStreams()));
        const double periods = std::ceil(kCalibrationDeliveries / streams);
        const us needed = v.publisher.rate > 0 ? us(std::llround(periods / v.publisher.rate * 1e6)) : limit;
        const us budget = std::max(us(std::llround(double(us(kCalibrationWallSeconds).count()) / scale)), us(kCalibrationFloor));
        warmup = std::min(limit, budget);
        duration = std::min(limit, std::max(budget, needed));
    }
    v.duration = std::min(v.duration, duration);
    v.warmup = std::min(v.warmup, warmup);
    if (v.arrival)
        v.arrival = std::min(*v.arrival, v.warmup);
    return v;
}

} // namespace edgesse::sim
