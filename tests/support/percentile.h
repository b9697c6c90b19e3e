#pragma once

// Benchmark support: a percentile of samples already sorted ascending (nearest rank).

#include <algorithm>
#include <cstddef>
#include <vector>

namespace edgesse::testing {

// p in [0, 1]; 0 for no samples.
template<typename T>
double percentileOfSorted(const std::vector<T> &sorted, double p)
{
    if (sorted.empty())
        return 0;
    const auto index = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1) + 0.5);
    return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]);
}

} // namespace edgesse::testing
