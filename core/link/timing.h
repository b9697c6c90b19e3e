#pragma once

#include <chrono>

namespace edgesse::link {

// The clock every timing stage speaks. Stages never read it: they are given the times they
// work from, so their tests run on a fake clock (plain time points) with no sockets.
using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Nanos = std::chrono::nanoseconds;

} // namespace edgesse::link
