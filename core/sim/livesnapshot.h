#pragma once

#include <QString>

#include <chrono>
#include <cstdint>
#include <vector>

namespace edgesse::sim {

// A cheap copy of a running variant's state for live charts (read at about 10 Hz from
// any thread). Times are seconds since the variant's measurement started (after warm-up;
// negative during warm-up).
struct LiveSnapshot {
    struct LatencyPoint {
        double atSeconds = 0;
        double p50Ms = 0;
        double p99Ms = 0;
        double maxMs = 0;
        double eventsPerSecond = 0; // deliveries per second in that 100 ms bucket
    };
    struct NodeLoad {
        QString name;
        std::int64_t connectionsOpen = 0;
        std::vector<std::pair<double, std::int64_t>> overTime; // (seconds, open connections)
    };
    struct LinkLoad {
        QString name;    // "from → to", the direction connections are opened in
        QString from;
        QString to;
        double bytesPerSecondDown = 0; // towards the client (server → client)
        double bytesPerSecondUp = 0;
        std::uint64_t bytesDown = 0;
        std::uint64_t bytesUp = 0;
        std::uint64_t connectionsOpen = 0;
        std::uint64_t reaps = 0;       // idle + max-duration closes so far
    };

    QString variant;
    bool valid = false;          // false before the first variant started
    double fraction = 0;         // of the current variant, 0..1
    double elapsedSeconds = 0;
    std::vector<LatencyPoint> latency;
    std::vector<NodeLoad> nodes;
    std::vector<LinkLoad> links;
    std::uint64_t published = 0;
    std::uint64_t delivered = 0;
    std::uint64_t reconnects = 0;
    std::uint64_t streamsOpen = 0;
    std::uint64_t streamsStarved = 0;
};

} // namespace edgesse::sim
