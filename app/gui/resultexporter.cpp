#include "app/gui/resultexporter.h"

#include "app/charts/charts.h"
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

#include <cmath>

namespace edgesse::gui {

namespace {

bool exportPdf(charts::ChartKind kind, const metrics::RunResult &result, const QString &path, QSize size, charts::Theme theme,
               QString *error)
{
    std::unique_ptr<QChart> chart = charts::buildChart(kind, result, {theme, false});
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

const char *const kLightStyle =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:32px auto;max-width:1180px;"
    "color:#1f2328;background:#fff;padding:0 16px}\n"
    "h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}\n"
    ".meta{color:#656d76}.question{font-style:italic;font-size:15px}.verdict{color:#1a7f37}\n"
    ".scroll{overflow-x:auto}table{border-collapse:collapse;font-variant-numeric:tabular-nums;margin-bottom:8px}\n"
    "th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right;vertical-align:top}th{background:#f6f8fa}\n"
    "td:first-child,th:first-child{text-align:left;white-space:nowrap}.warn{color:#9a6700}\n"
    ".delta{display:block;color:#656d76;font-size:12px;white-space:nowrap}.best{font-weight:700;color:#1a7f37}\n"
    "figure{margin:16px 0}figure img{width:100%;max-width:960px;border:1px solid #d0d7de;border-radius:6px}\n"
    "figcaption{color:#656d76;font-size:13px}pre{background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;"
    "padding:12px;overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}\n";
const char *const kDarkStyle =
    "body{background:#1e1f22;color:#ececec}th{background:#26282c}th,td,h2,figure img,pre{border-color:#3c4046}"
    "pre{background:#26282c}.meta,figcaption,.delta{color:#b4b8be}.verdict,.best{color:#2ed19e}.warn{color:#f0c040}\n";

// A table of figures, one column an entry: the value, its Δ and % against the baseline, the
// best marked where it beats every other value meaningfully.
QString figureTable(const runs::Comparison &c, const QString &corner, const QList<QPair<QString, QList<QList<double>>>> &blocks,
                    const QList<runs::Figure> &figures)
{
    QString html = QStringLiteral("<div class=\"scroll\"><table>\n<tr><th>%1</th>").arg(cell(corner));
    for (int e = 0; e < c.entries.size(); ++e)
        html += QStringLiteral("<th>%1</th>")
                    .arg(cell(c.entries.at(e).label + (e == c.baseline && c.entries.size() > 1 ? QStringLiteral(" (baseline)")
                                                                                                : QString())));
    html += QStringLiteral("</tr>\n");
    for (const auto &[prefix, values] : blocks) {
        for (int f = 0; f < figures.size(); ++f) {
            QList<double> column;
            for (const QList<double> &v : values)
                column << v.value(f, std::nan(""));
            const int best = runs::bestIndex(column, figures.at(f));
            html += QStringLiteral("<tr><td title=\"%1\">%2</td>").arg(cell(figures.at(f).tooltip), cell(prefix + figures.at(f).header));
            for (int e = 0; e < column.size(); ++e) {
                QString text = cell(runs::formatValue(column.at(e), figures.at(f).format));
                if (e != c.baseline && column.size() > 1)
                    text += QStringLiteral("<span class=\"delta\">%1</span>")
                                .arg(cell(runs::formatDelta(column.at(e), column.value(c.baseline, std::nan("")), figures.at(f).format)));
                html += e == best ? QStringLiteral("<td class=\"best\">%1</td>").arg(text) : QStringLiteral("<td>%1</td>").arg(text);
            }
            html += QStringLiteral("</tr>\n");
        }
    }
    return html + QStringLiteral("</table></div>\n");
}

QString comparisonSection(const runs::Comparison &c)
{
    QString html;
    if (!c.question.isEmpty())
        html += QStringLiteral("<p class=\"question\">%1</p>\n").arg(cell(c.question));
    for (const QString &line : c.verdict())
        html += QStringLiteral("<p class=\"verdict\">▸ %1</p>\n").arg(cell(line));
    QList<QList<double>> totals;
    for (const runs::Entry &e : c.entries)
        totals << runs::totalValues(e.result);
    html += QStringLiteral("<h2>Summary</h2>\n") + figureTable(c, QStringLiteral("figure"), {{QString(), totals}}, runs::totalFigures());
    const QStringList groups = c.groupNames();
    if (groups.size() > 1) {
        QList<QPair<QString, QList<QList<double>>>> blocks;
        for (const QString &name : groups) {
            QList<QList<double>> values;
            for (const runs::Entry &e : c.entries) {
                QList<double> v;
                for (const metrics::GroupResult &g : e.result.groups)
                    if (g.name == name)
                        v = runs::groupValues(g);
                values << v;
            }
            blocks.append({name + QStringLiteral(" · "), values});
        }
        html += QStringLiteral("<h2>Per audience</h2>\n") + figureTable(c, QStringLiteral("audience · figure"), blocks, runs::groupFigures());
    }
    for (const runs::Entry &e : c.entries)
        for (const QString &warning : e.result.warnings)
            html += QStringLiteral("<p class=\"warn\">⚠ %1: %2</p>\n").arg(cell(e.label), cell(warning));
    return html;
}

} // namespace

QByteArray htmlReport(const ExportRequest &request, const QList<QPair<QString, QByteArray>> &chartPngs)
{
    const metrics::RunResult &r = request.result;
    const runs::Comparison c = request.comparison.isEmpty() ? runs::compare({r}) : request.comparison;
    QString html = QStringLiteral("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                                  "<meta name=\"generator\" content=\"EdgeSSE %1\">\n<title>%2 — EdgeSSE report</title>\n<style>\n")
                       .arg(QStringLiteral(EDGESSE_VERSION), cell(r.scenarioName));
    html += QLatin1String(kLightStyle);
    if (request.theme == charts::Theme::Dark)
        html += QLatin1String(kDarkStyle);
    html += QStringLiteral("</style></head><body>\n");
    html += QStringLiteral("<h1>%1</h1>\n<p class=\"meta\">%2 · seed %3 · started %4 · %5 %6</p>\n")
                .arg(cell(r.scenarioName), cell(QFileInfo(request.scenarioFile).fileName()))
                .arg(r.seed)
                .arg(cell(r.startedAt), cell(r.toolName), cell(r.toolVersion));
    html += comparisonSection(c);
    if (!request.topologyPng.isEmpty())
        html += QStringLiteral("<h2>Topology</h2>\n<figure><img alt=\"Topology\" src=\"data:image/png;base64,%1\"></figure>\n")
                    .arg(QString::fromLatin1(request.topologyPng.toBase64()));
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
    options.theme = request.theme;
    const metrics::RunResult charted = request.comparison.isEmpty() ? request.result : request.comparison.asRunResult();
    const QStringList chartFiles = charts::exportCharts(charted, dir, options, error);
    if (chartFiles.isEmpty())
        return {};
    written += chartFiles;

    QList<QPair<QString, QByteArray>> pngs;
    for (const charts::ChartKind kind : charts::allChartKinds()) {
        const QString stem = charts::chartFileStem(kind);
        const QString pdfPath = QDir(dir).filePath(stem + QStringLiteral(".pdf"));
        if (!exportPdf(kind, charted, pdfPath, options.size, options.theme, error))
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
