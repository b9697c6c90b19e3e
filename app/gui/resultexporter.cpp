#include "app/gui/resultexporter.h"

#include "app/charts/charts.h"
#include "app/gui/comparisonview.h"
#include "core/metrics/csvwriter.h"

#include <QChart>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QGraphicsScene>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>

namespace edgesse::gui {

namespace {

bool exportPdf(charts::ChartKind kind, const metrics::RunResult &result, const QString &path, QSize size, QString *error)
{
    std::unique_ptr<QChart> chart = charts::buildChart(kind, result, {charts::Theme::Light, false});
    QPdfWriter pdf(path);
    pdf.setCreator(QStringLiteral("EdgeSSE " EDGESSE_VERSION));
    pdf.setTitle(charts::chartTitle(kind));
    pdf.setResolution(96);
    pdf.setPageSize(QPageSize(QSizeF(size.width() * 0.75, size.height() * 0.75), QPageSize::Point, QString(),
                              QPageSize::ExactMatch));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter;
    if (!painter.begin(&pdf)) {
        if (error)
            *error = QObject::tr("%1: cannot be written (check the folder's permissions and free space)").arg(path);
        return false;
    }
    QGraphicsScene scene;
    chart->resize(size);
    scene.addItem(chart.get());
    scene.setSceneRect(QRectF(QPointF(0, 0), size));
    painter.setRenderHint(QPainter::Antialiasing);
    scene.render(&painter, QRectF(QPointF(0, 0), QSizeF(pdf.width(), pdf.height())), scene.sceneRect());
    painter.end();
    scene.removeItem(chart.get());
    return true;
}

QString cell(const QString &text)
{
    return text.toHtmlEscaped();
}

} // namespace

QByteArray htmlReport(const ExportRequest &request, const QList<QPair<QString, QByteArray>> &chartPngs)
{
    const metrics::RunResult &r = request.result;
    QString html;
    html += QStringLiteral(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>%1 — EdgeSSE report</title>\n"
        "<style>\n"
        "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:32px auto;max-width:1100px;"
        "color:#1f2328;background:#fff;padding:0 16px}\n"
        "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\n"
        ".meta{color:#656d76}table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}\n"
        "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right;white-space:nowrap}th{background:#f6f8fa}\n"
        "td:first-child,th:first-child{text-align:left}.warn{color:#9a6700}\n"
        "figure{margin:16px 0}figure img{width:100%;max-width:960px;border:1px solid #d0d7de;border-radius:6px}\n"
        "figcaption{color:#656d76;font-size:13px}pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;"
        "padding:12px;overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}\n"
        "@media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}th{background:#161b22}"
        "th,td,h2,figure img,pre{border-color:#30363d}pre{background:#161b22}.meta,figcaption{color:#8b949e}}\n"
        "</style></head><body>\n")
                .arg(cell(r.scenarioName));
    html += QStringLiteral("<h1>%1</h1>\n<p class=\"meta\">%2 · seed %3 · started %4 · %5 %6</p>\n")
                .arg(cell(r.scenarioName), cell(QFileInfo(request.scenarioFile).fileName()))
                .arg(r.seed)
                .arg(cell(r.startedAt), cell(r.toolName), cell(r.toolVersion));

    html += QStringLiteral("<h2>Summary</h2>\n<table>\n<tr><th>variant</th>");
    const auto columns = ComparisonView::columns();
    for (const auto &column : columns)
        html += QStringLiteral("<th title=\"%1\">%2</th>").arg(cell(column.tooltip), cell(column.header));
    html += QStringLiteral("</tr>\n");
    for (const auto &variant : r.variants) {
        html += QStringLiteral("<tr><td>%1</td>").arg(cell(variant.name));
        for (const QString &value : ComparisonView::rowFor(variant))
            html += QStringLiteral("<td>%1</td>").arg(cell(value));
        html += QStringLiteral("</tr>\n");
    }
    html += QStringLiteral("</table>\n");
    for (const auto &variant : r.variants)
        for (const QString &warning : variant.warnings)
            html += QStringLiteral("<p class=\"warn\">⚠ %1: %2</p>\n").arg(cell(variant.name), cell(warning));

    html += QStringLiteral("<h2>Charts</h2>\n");
    for (const auto &[title, png] : chartPngs)
        html += QStringLiteral("<figure><img alt=\"%1\" src=\"data:image/png;base64,%2\"><figcaption>%1</figcaption></figure>\n")
                    .arg(cell(title), QString::fromLatin1(png.toBase64()));

    html += QStringLiteral("<h2>Scenario</h2>\n<pre>%1</pre>\n").arg(cell(request.scenarioText));
    html += QStringLiteral("<p class=\"meta\">results.json and the CSV files beside this report hold every figure.</p>\n"
                           "</body></html>\n");
    return html.toUtf8();
}

QStringList exportResults(const ExportRequest &request, const QString &dir, QString *error)
{
    if (!QDir().mkpath(dir)) {
        if (error)
            *error = QObject::tr("%1: the folder cannot be created (check the path and its permissions)").arg(dir);
        return {};
    }
    QStringList written = metrics::writeResultFiles(request.result, dir, error);
    if (written.isEmpty())
        return {};

    charts::ExportOptions options;
    options.theme = charts::Theme::Light;
    const QStringList chartFiles = charts::exportCharts(request.result, dir, options, error);
    if (chartFiles.isEmpty())
        return {};
    written += chartFiles;

    QList<QPair<QString, QByteArray>> pngs;
    for (const charts::ChartKind kind : charts::allChartKinds()) {
        const QString stem = charts::chartFileStem(kind);
        const QString pdfPath = QDir(dir).filePath(stem + QStringLiteral(".pdf"));
        if (!exportPdf(kind, request.result, pdfPath, options.size, error))
            return {};
        written << pdfPath;
        QFile png(QDir(dir).filePath(stem + QStringLiteral(".png")));
        if (png.open(QIODevice::ReadOnly))
            pngs.append({charts::chartTitle(kind), png.readAll()});
    }

    const QString reportPath = QDir(dir).filePath(QStringLiteral("report.html"));
    QSaveFile report(reportPath);
    if (!report.open(QIODevice::WriteOnly) || report.write(htmlReport(request, pngs)) < 0 || !report.commit()) {
        if (error)
            *error = QObject::tr("%1: %2").arg(reportPath, report.errorString());
        return {};
    }
    written << reportPath;
    return written;
}

} // namespace edgesse::gui
