#pragma once

#include <QString>

#include <chrono>
#include <cstdint>
#include <optional>

namespace edgesse::sim {

// What a caller may override on top of a scenario's variants for one run.
struct RunOptions {
    std::optional<std::chrono::milliseconds> duration; // replaces each variant's duration
    std::optional<std::chrono::milliseconds> warmup;   // replaces each variant's warm-up
    std::optional<std::uint64_t> seed;                 // replaces the scenario's seed
    int threads = 0;                                   // data-plane threads; 0 = one per core
    double timeScale = 1; // run this many times slower than modelled (see sim::dilated); ≥ 1
    // Calibrate each variant's scale instead (TimeScaleSearch): the smallest whose error p99
    // is within the tolerance. timeScale is then ignored.
    bool autoTimeScale = false;
    double toleranceMs = 1.0; // the error p99 (modelled ms) a group may have and be trusted
    QString outputDirectory; // the run's folder: external servers keep their output under servers/VARIANT/NODE
};

} // namespace edgesse::sim
