#pragma once

#include "app/charts/charts.h"
#include "app/runs/comparison.h"
#include "core/metrics/runresult.h"

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace edgesse::gui {

// Everything Export writes into one folder: results.json and the CSV files, every chart as
// PNG (2×), SVG and PDF, and report.html — one self-contained file with the question, the
// verdict, the totals and per-audience tables against the baseline (best values marked), the
// topology, every chart and the scenario, in the chosen palette.
struct ExportRequest
{
    metrics::RunResult result;     // what results.json and the CSV files hold
    runs::Comparison comparison;   // what the report compares; empty: the result's variants
    QString scenarioText;
    QString scenarioFile;
    charts::Theme theme = charts::Theme::Light;
    QByteArray topologyPng;        // the topology picture for the report; empty: none
};

// Returns the paths written; on failure an empty list and `error` names the file and why.
QStringList exportResults(const ExportRequest &request, const QString &dir, QString *error = nullptr);

// The report alone (used by exportResults; charts given as title → PNG bytes).
QByteArray htmlReport(const ExportRequest &request, const QList<QPair<QString, QByteArray>> &chartPngs);

} // namespace edgesse::gui
