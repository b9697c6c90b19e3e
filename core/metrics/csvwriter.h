#pragma once

#include "core/metrics/runresult.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <utility>
#include <vector>

class QIODevice;

namespace edgesse::metrics {

// CSV files that open as they are in pandas or a spreadsheet: UTF-8, a header row,
// comma-separated, CRLF line ends, fields quoted per RFC 4180 only when they hold a comma,
// a quote or a line break; numbers plain (dot decimal, no thousands separator); a missing
// value is an empty field. A text field a spreadsheet would run as a formula (one starting
// with = + - @, a tab or a carriage return, unless it is a plain number) gets a leading '.
namespace csv {

QByteArray field(const QString &text);
QByteArray number(double value, int decimals = 3); // empty for NaN
QByteArray number(std::uint64_t value);
QByteArray row(const QList<QByteArray> &fields);   // joined, with CRLF

QByteArray summary(const RunResult &result);       // summary.csv: one row per variant
QByteArray groups(const RunResult &result);        // groups.csv: one row per variant and population
QByteArray links(const RunResult &result);         // links.csv: one row per variant and link
QByteArray streams(const RunResult &result);       // streams.csv: one row per stream
QByteArray timeSeries(const RunResult &result);    // timeseries.csv: one row per variant and window
QByteArray samples(const RunResult &result);       // samples.csv: one row per delivered event

} // namespace csv

// Every file name writeResultFiles() may write.
QStringList resultFileNames();
// results.json and the CSV files (samples.csv only when samples were kept), by name.
std::vector<std::pair<QString, QByteArray>> resultFiles(const RunResult &result);

// Writes resultFiles() into DIR, creating it, as one io::OutputSet: all of them or none.
// Returns the written paths; on failure an empty list and `error` names the file and the
// operating system's reason.
QStringList writeResultFiles(const RunResult &result, const QString &dir, QString *error = nullptr);

} // namespace edgesse::metrics
