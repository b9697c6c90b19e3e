#pragma once

#include <QList>
#include <QPointF>
#include <QString>

#include <chrono>
#include <cstddef>
#include <span>
#include <vector>

namespace edgesse::metrics {

// How rows are folded into a coarser window, per channel.
enum class Fold { Mean, Max, Min, Sum, Last };
QString foldName(Fold fold);
Fold foldFromName(const QString &name); // Mean for an unknown name

// Channel names shared by the engine (which appends rows), the charts and the CSV files.
namespace series {
inline const QString kLatencyP50 = QStringLiteral("latency_p50_ms");
inline const QString kLatencyP90 = QStringLiteral("latency_p90_ms");
inline const QString kLatencyP99 = QStringLiteral("latency_p99_ms");
inline const QString kLatencyMax = QStringLiteral("latency_max_ms");
inline const QString kEventsPerSecond = QStringLiteral("events_per_s");    // delivered, all streams
inline const QString kPublishedPerSecond = QStringLiteral("published_per_s");
inline const QString kStreamsOpen = QStringLiteral("streams_open");
inline const QString kReconnects = QStringLiteral("reconnects");            // in the window
inline const QString kConnectionsPrefix = QStringLiteral("connections:"); // + node name
inline const QString kLinkBytesPrefix = QStringLiteral("bytes_per_s:");   // + link name
inline QString connections(const QString &node) { return kConnectionsPrefix + node; }
inline QString linkBytesPerSecond(const QString &link) { return kLinkBytesPrefix + link; }
} // namespace series

struct SeriesChannel {
    QString name;
    QString unit;
    Fold fold = Fold::Mean;
};

// Multi-channel time series in ring buffers, one row every `interval` (100 ms by default).
// Like a speed graph: level 0 keeps the last `capacity` rows at full resolution; every
// `foldFactor` rows are folded into one row of level 1 (10× coarser), and so on, so a run
// of any length keeps a bounded amount of memory and the whole run stays viewable at the
// finest resolution that still covers it. NaN means "no value in this window" (e.g. no
// event delivered) and is skipped when folding. Not thread-safe: one collector appends;
// copy it (it is a value) to hand a snapshot to another thread.
class TimeSeries
{
public:
    explicit TimeSeries(std::chrono::milliseconds interval = std::chrono::milliseconds(100),
                        std::size_t capacity = 3000, int levels = 4, int foldFactor = 10);

    // Returns the channel's index (the existing one when the name is known). A channel
    // added after rows were appended reads NaN for the earlier rows.
    int addChannel(const QString &name, const QString &unit = {}, Fold fold = Fold::Mean);
    int channelIndex(const QString &name) const; // -1 when unknown
    const std::vector<SeriesChannel> &channels() const { return m_channels; }
    int channelCount() const { return int(m_channels.size()); }

    // A row of NaN, channelCount() wide, to fill and append.
    std::vector<double> emptyRow() const;
    // One row for the next window; values.size() must be channelCount() (missing ones NaN).
    void append(std::span<const double> values);
    std::size_t rowsAppended() const { return m_rowsAppended; }
    std::chrono::milliseconds interval() const { return m_levels.front().interval; }

    // The finest level that holds the whole series (or the coarsest level's window when
    // the run outlived every level): its interval, and per row the time in seconds at the
    // end of the window, from the start of the series.
    std::chrono::milliseconds viewInterval() const;
    std::vector<double> viewTimes() const;
    std::vector<double> viewValues(int channel) const;
    QList<QPointF> points(int channel) const; // (seconds, value), NaN rows left out
    QList<QPointF> points(const QString &name) const;

    // Rebuilds a series from a view (used when reading results.json back).
    static TimeSeries fromView(std::chrono::milliseconds interval, const std::vector<SeriesChannel> &channels,
                               const std::vector<std::vector<double>> &columns);

private:
    struct Accumulator {
        double sum = 0;
        double min = 0;
        double max = 0;
        double last = 0;
        int values = 0;
    };
    struct Level {
        std::chrono::milliseconds interval{};
        std::size_t dropped = 0; // rows that fell out of the ring
        std::size_t size = 0;
        std::size_t head = 0;    // index of the oldest row in each ring
        std::vector<std::vector<double>> rings; // per channel, capacity long
        std::vector<Accumulator> pending;       // per channel, rows not yet folded upward
        int pendingRows = 0;
    };

    void push(std::size_t level, std::span<const double> values);
    std::size_t viewLevel() const;
    bool hasTail(std::size_t index) const;
    double folded(const Accumulator &acc, Fold fold) const;

    std::vector<SeriesChannel> m_channels;
    std::vector<Level> m_levels;
    std::size_t m_capacity;
    int m_foldFactor;
    std::size_t m_rowsAppended = 0;
};

} // namespace edgesse::metrics
