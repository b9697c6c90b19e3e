#include "core/metrics/timeseries.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgesse::metrics {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

QString foldName(Fold fold)
{
    switch (fold) {
    case Fold::Mean: return QStringLiteral("mean");
    case Fold::Max: return QStringLiteral("max");
    case Fold::Min: return QStringLiteral("min");
    case Fold::Sum: return QStringLiteral("sum");
    case Fold::Last: return QStringLiteral("last");
    }
    return QStringLiteral("mean");
}

Fold foldFromName(const QString &name)
{
    for (Fold fold : {Fold::Mean, Fold::Max, Fold::Min, Fold::Sum, Fold::Last}) {
        if (foldName(fold) == name)
            return fold;
    }
    return Fold::Mean;
}

TimeSeries::TimeSeries(std::chrono::milliseconds interval, std::size_t capacity, int levels, int foldFactor)
    : m_capacity(std::max<std::size_t>(capacity, 2))
    , m_foldFactor(std::max(foldFactor, 2))
{
    levels = std::max(levels, 1);
    auto levelInterval = std::max(interval, std::chrono::milliseconds(1));
    for (int i = 0; i < levels; ++i) {
        Level level;
        level.interval = levelInterval;
        m_levels.push_back(std::move(level));
        levelInterval *= m_foldFactor;
    }
}

int TimeSeries::addChannel(const QString &name, const QString &unit, Fold fold)
{
    if (const int existing = channelIndex(name); existing >= 0)
        return existing;
    m_channels.push_back({name, unit, fold});
    for (Level &level : m_levels) {
        level.rings.emplace_back(m_capacity, kNaN);
        level.pending.emplace_back();
    }
    return int(m_channels.size()) - 1;
}

int TimeSeries::channelIndex(const QString &name) const
{
    for (std::size_t i = 0; i < m_channels.size(); ++i) {
        if (m_channels[i].name == name)
            return int(i);
    }
    return -1;
}

std::vector<double> TimeSeries::emptyRow() const
{
    return std::vector<double>(m_channels.size(), kNaN);
}

void TimeSeries::append(std::span<const double> values)
{
    push(0, values);
    ++m_rowsAppended;
}

double TimeSeries::folded(const Accumulator &acc, Fold fold) const
{
    if (acc.values == 0)
        return kNaN;
    switch (fold) {
    case Fold::Mean: return acc.sum / acc.values;
    case Fold::Max: return acc.max;
    case Fold::Min: return acc.min;
    case Fold::Sum: return acc.sum;
    case Fold::Last: return acc.last;
    }
    return kNaN;
}

void TimeSeries::push(std::size_t levelIndex, std::span<const double> values)
{
    Level &level = m_levels[levelIndex];
    const std::size_t channels = m_channels.size();
    std::size_t slot;
    if (level.size < m_capacity) {
        slot = (level.head + level.size) % m_capacity;
        ++level.size;
    } else {
        slot = level.head;
        level.head = (level.head + 1) % m_capacity;
        ++level.dropped;
    }
    for (std::size_t c = 0; c < channels; ++c) {
        const double value = c < values.size() ? values[c] : kNaN;
        level.rings[c][slot] = value;
        if (std::isnan(value))
            continue;
        Accumulator &acc = level.pending[c];
        acc.sum += value;
        acc.min = acc.values ? std::min(acc.min, value) : value;
        acc.max = acc.values ? std::max(acc.max, value) : value;
        acc.last = value;
        ++acc.values;
    }
    if (levelIndex + 1 >= m_levels.size())
        return;
    if (++level.pendingRows < m_foldFactor)
        return;
    std::vector<double> coarse(channels, kNaN);
    for (std::size_t c = 0; c < channels; ++c) {
        coarse[c] = folded(level.pending[c], m_channels[c].fold);
        level.pending[c] = {};
    }
    level.pendingRows = 0;
    push(levelIndex + 1, coarse);
}

std::size_t TimeSeries::viewLevel() const
{
    for (std::size_t i = 0; i < m_levels.size(); ++i) {
        if (m_levels[i].dropped == 0)
            return i;
    }
    return m_levels.size() - 1;
}

bool TimeSeries::hasTail(std::size_t index) const
{
    for (std::size_t finer = 0; finer < index; ++finer) {
        if (m_levels[finer].pendingRows > 0)
            return true;
    }
    return false;
}

std::chrono::milliseconds TimeSeries::viewInterval() const
{
    return m_levels[viewLevel()].interval;
}

std::vector<double> TimeSeries::viewTimes() const
{
    const std::size_t index = viewLevel();
    const Level &level = m_levels[index];
    std::vector<double> times;
    times.reserve(level.size + 1);
    const double step = double(level.interval.count()) / 1000.0;
    for (std::size_t i = 0; i < level.size; ++i)
        times.push_back(double(level.dropped + i + 1) * step);
    if (hasTail(index)) {
        // The partly filled window at the end, so a coarse view reaches the last row.
        times.push_back(double(m_rowsAppended) * double(m_levels.front().interval.count()) / 1000.0);
    }
    return times;
}

std::vector<double> TimeSeries::viewValues(int channel) const
{
    std::vector<double> values;
    if (channel < 0 || channel >= channelCount())
        return values;
    const std::size_t index = viewLevel();
    const Level &level = m_levels[index];
    const auto &ring = level.rings[std::size_t(channel)];
    values.reserve(level.size + 1);
    for (std::size_t i = 0; i < level.size; ++i)
        values.push_back(ring[(level.head + i) % m_capacity]);
    if (hasTail(index)) {
        // Fold what the finer levels hold beyond this level's last row; their pending
        // accumulators cover disjoint, consecutive rows.
        Accumulator tail;
        for (std::size_t finer = 0; finer < index; ++finer) {
            const Accumulator &p = m_levels[finer].pending[std::size_t(channel)];
            if (p.values == 0)
                continue;
            tail.sum += p.sum;
            tail.min = tail.values ? std::min(tail.min, p.min) : p.min;
            tail.max = tail.values ? std::max(tail.max, p.max) : p.max;
            tail.last = p.last;
            tail.values += p.values;
        }
        values.push_back(folded(tail, m_channels[std::size_t(channel)].fold));
    }
    return values;
}

QList<QPointF> TimeSeries::points(int channel) const
{
    QList<QPointF> result;
    const std::vector<double> values = viewValues(channel);
    const std::vector<double> times = viewTimes();
    result.reserve(qsizetype(values.size()));
    for (std::size_t i = 0; i < values.size() && i < times.size(); ++i) {
        if (!std::isnan(values[i]))
            result.append(QPointF(times[i], values[i]));
    }
    return result;
}

QList<QPointF> TimeSeries::points(const QString &name) const
{
    return points(channelIndex(name));
}

TimeSeries TimeSeries::fromView(std::chrono::milliseconds interval, const std::vector<SeriesChannel> &channels,
                                const std::vector<std::vector<double>> &columns)
{
    std::size_t rows = 0;
    for (const auto &column : columns)
        rows = std::max(rows, column.size());
    TimeSeries series(interval, std::max<std::size_t>(rows, 2), 1);
    for (const SeriesChannel &channel : channels)
        series.addChannel(channel.name, channel.unit, channel.fold);
    std::vector<double> row(channels.size(), kNaN);
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < channels.size(); ++c)
            row[c] = c < columns.size() && r < columns[c].size() ? columns[c][r] : kNaN;
        series.append(row);
    }
    return series;
}

} // namespace edgesse::metrics
