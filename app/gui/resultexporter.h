#pragma once

#include "core/metrics/runresult.h"

#include <QString>
#include <QStringList>

namespace edgesse::gui {

// Everything Export writes into one folder: results.json and the CSV files, every chart as
// PNG (2×), SVG and PDF, and report.html — one self-contained file with the scenario, the
// summary table and every chart embedded.
struct ExportRequest
{
    metrics::RunResult result;
    QString scenarioText;
    QString scenarioFile;
};

// Returns the paths written; on failure an empty list and `error` names the file and why.
QStringList exportResults(const ExportRequest &request, const QString &dir, QString *error = nullptr);

// The report alone (used by exportResults; charts given as STEM → PNG bytes).
QByteArray htmlReport(const ExportRequest &request, const QList<QPair<QString, QByteArray>> &chartPngs);

} // namespace edgesse::gui
