#pragma once

#include <QString>
#include <QStringView>

#include <chrono>
#include <optional>

// Quantities written the way people write them. Every parser needs the unit: "40" is an
// error for a duration, not a guess. On failure the parsers return nullopt and set *error
// to a sentence naming what was expected ("expected a duration like 40ms, got ...").
namespace edgesse::scenario::units {

// us, ms, s, m; decimals allowed when the result is a whole number of microseconds.
std::optional<std::chrono::microseconds> parseDuration(QStringView text, QString *error = nullptr);
// B, KB (1024 B), MB (1024 KB).
std::optional<qint64> parseBytes(QStringView text, QString *error = nullptr);
// kbps, Mbps, Gbps (decimal: 1 kbps = 1000 bit/s); "unlimited" gives 0.
std::optional<qint64> parseBandwidth(QStringView text, QString *error = nullptr);
// N/s or N/m, events per second.
std::optional<double> parseRate(QStringView text, QString *error = nullptr);
// 0.01 or 1%; a probability in [0, 1].
std::optional<double> parseProbability(QStringView text, QString *error = nullptr);

// The inverse: the shortest exact spelling in the largest unit that fits ("1500ms", "2s").
QString formatDuration(std::chrono::microseconds duration);
QString formatBytes(qint64 bytes);
QString formatBandwidth(qint64 bitsPerSecond);
QString formatRate(double eventsPerSecond);

// Levenshtein distance, for "did you mean" suggestions.
int editDistance(QStringView a, QStringView b);

} // namespace edgesse::scenario::units
