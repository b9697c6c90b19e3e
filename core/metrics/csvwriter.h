#pragma once

#include "core/metrics/runresult.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

class QIODevice;

namespace edgesse::metrics {

// CSV files that open as they are in pandas or a spreadsheet: UTF-8, a header row,
// comma-separated, CRLF line ends, fields quoted per RFC 4180 only when they hold a comma,
// a quote or a line break; numbers plain (dot decimal, no thousands separator); a missing
// value is an empty field.
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

// Writes DIR/results.json and the CSV files (samples.csv only when samples were kept),
// creating DIR. Returns the written paths; on failure an empty list and `error` names the
// file and the reason.
QStringList writeResultFiles(const RunResult &result, const QString &dir, QString *error = nullptr);

} // namespace edgesse::metrics
