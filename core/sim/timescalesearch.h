#pragma once

#include "core/scenario/scenario.h"

#include <QString>

namespace edgesse::sim {

// `--time-scale auto`: the smallest scale at which a variant's measured error p99 (modelled
// time) stays within the tolerance, found by short calibration runs. Pure: the caller runs
// each calibration at next() and reports what it measured.
//
// It starts at scale 1. The machine's own delay is about fixed in wall time, so its share of
// modelled time falls as 1/scale: from a scale whose error was too large it jumps to
// scale × error / tolerance (with a margin), then checks that scale. A calibration that
// measured no error at all (nothing but polling, TLS) decides scale 1: nothing shows that
// a slower run would be truer. At most kMaxCalibrations runs; at kMaxScale it stops.
class TimeScaleSearch
{
public:
    static constexpr int kMaxCalibrations = 4;
    static constexpr double kMaxScale = 1000;
    static constexpr double kMargin = 1.25;

    explicit TimeScaleSearch(double toleranceMs);

    bool decided() const { return m_decided; }
    // The scale to calibrate at next (valid while !decided()).
    double next() const { return m_next; }
    // A calibration at `scale` measured `samples` errors with p99 `errorP99Ms` (modelled ms).
    void measured(double scale, std::uint64_t samples, double errorP99Ms);
    // Valid once decided(): the scale, and a sentence saying why.
    double chosen() const { return m_chosen; }
    QString reason() const { return m_reason; }

private:
    void decide(double scale, QString reason);

    double m_tolerance;
    double m_next = 1;
    double m_chosen = 1;
    int m_runs = 0;
    bool m_decided = false;
    QString m_reason;
    QString m_steps; // "x1: 3.2 ms, x4: 0.7 ms"
};

// A variant cut down for a calibration run at `scale`: at most 2 s measured, a warm-up of at
// most as long (browsers arriving over it), the same topology and rates. Above scale 1 both
// are cut to about 4 s of wall time each (at least 250 ms modelled), the measured window kept
// long enough for about 1,000 measured deliveries (whole publisher periods).
scenario::Variant calibrationVariant(scenario::Variant variant, double scale = 1);

} // namespace edgesse::sim
