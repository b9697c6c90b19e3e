#include "app/runs/runstore.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>

#include <algorithm>
#include <utility>

namespace edgesse::runs {

namespace {

const QString kResultsFile = QStringLiteral("results.json");
const QString kTimeFormat = QStringLiteral("yyyy-MM-dd_HH-mm-ss");
constexpr int kMaxNameLength = 96;

QString safeName(const QString &name)
{
    static const QRegularExpression unsafe(QStringLiteral("[^A-Za-z0-9._=-]+"));
    return QString(name).replace(unsafe, QStringLiteral("-"));
}

QString folderName(const metrics::RunResult &result)
{
    QDateTime when = QDateTime::fromString(result.startedAt, Qt::ISODate);
    if (!when.isValid())
        when = QDateTime::currentDateTimeUtc();
    QStringList variants;
    for (const metrics::VariantResult &v : result.variants)
        variants << safeName(v.name);
    const QString name = when.toUTC().toString(kTimeFormat) + QLatin1Char('_') + variants.join(QLatin1Char('+'));
    return name.left(kMaxNameLength);
}

// A second run in the same second is told apart after the time, where no variant name can be
// mistaken for it: 2026-12-01_10-15-02.2_central+edge.
QString numberedName(const QString &name, int n)
{
    return name.left(kTimeFormat.size()) + QStringLiteral(".%1").arg(n) + name.mid(kTimeFormat.size());
}

QStringList variantsInFile(const QString &path)
{
    QFile file(path);
    QStringList names;
    if (!file.open(QIODevice::ReadOnly))
        return names;
    const QJsonArray variants = QJsonDocument::fromJson(file.readAll()).object().value(QLatin1String("variants")).toArray();
    for (const auto &v : variants)
        names << v.toObject().value(QLatin1String("name")).toString();
    return names;
}

struct FolderName
{
    int number = 1; // the run's place among those started in the same second
    QStringList variants;
};

// What a run folder's name says. Folders from before numberedName() carried the number at
// the end ("…_central+edge-2" beside "…_central+edge"); those, and names cut at
// kMaxNameLength, have their variants read from the results file.
FolderName parseFolderName(const QDir &root, const QString &name, const QString &file)
{
    static const QRegularExpression numbered(QStringLiteral("^\\.(\\d+)(?=_)"));
    static const QRegularExpression legacyNumber(QStringLiteral("-(\\d+)$"));
    FolderName parsed;
    QString rest = name.mid(kTimeFormat.size());
    if (const QRegularExpressionMatch m = numbered.match(rest); m.hasMatch()) {
        parsed.number = m.captured(1).toInt();
        rest = rest.mid(m.capturedEnd());
    }
    const QRegularExpressionMatch legacy = legacyNumber.match(name);
    const bool legacyNumbered = legacy.hasMatch() && root.exists(name.left(legacy.capturedStart()));
    if (legacyNumbered)
        parsed.number = legacy.captured(1).toInt();
    parsed.variants = legacyNumbered || name.size() >= kMaxNameLength ? variantsInFile(file)
                                                                      : rest.mid(1).split(QLatin1Char('+'), Qt::SkipEmptyParts);
    return parsed;
}

} // namespace

void describeScenario(metrics::RunResult &result, const scenario::Scenario &scenario, const QString &text)
{
    result.scenarioQuestion = scenario.question;
    result.scenarioText = text;
    result.scenarioVariants.clear();
    for (const scenario::Variant &v : scenario.variants)
        result.scenarioVariants << v.name;
}

QString runsFolderFor(const QString &scenarioPath, const QString &fallbackRoot)
{
    if (scenarioPath.isEmpty())
        return QDir(fallbackRoot).filePath(QStringLiteral("untitled-results/runs"));
    const QFileInfo info(scenarioPath);
    return info.dir().filePath(info.completeBaseName() + QStringLiteral("-results/runs"));
}

QString newRunFile(const metrics::RunResult &result, const QString &runsFolder, QString *error)
{
    const QDir root(runsFolder);
    const QString base = folderName(result);
    QString name = base;
    for (int n = 2; root.exists(name); ++n)
        name = numberedName(base, n);
    if (!root.mkpath(name)) {
        if (error)
            *error = QStringLiteral("%1: the folder cannot be created (check the path and its permissions)").arg(root.filePath(name));
        return {};
    }
    return QDir(root.filePath(name)).filePath(kResultsFile);
}

bool writeRunFile(const metrics::RunResult &result, const QString &path, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(result.toJson()).toJson(QJsonDocument::Compact)) < 0
        || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QString storeRun(const metrics::RunResult &result, const QString &runsFolder, QString *error)
{
    const QString path = newRunFile(result, runsFolder, error);
    return !path.isEmpty() && writeRunFile(result, path, error) ? path : QString();
}

QList<StoredRun> storedRuns(const QString &runsFolder)
{
    QList<std::pair<QString, StoredRun>> found; // sort key: time, then the number of a run in the same second
    const QDir root(runsFolder);
    for (const QString &name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        const QString file = QDir(root.filePath(name)).filePath(kResultsFile);
        if (!QFileInfo::exists(file))
            continue;
        const QDateTime when = QDateTime::fromString(name.left(kTimeFormat.size()), kTimeFormat);
        StoredRun run;
        run.file = file;
        run.startedAt = when.isValid() ? when.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : name;
        const FolderName parsed = parseFolderName(root, name, file);
        run.variants = parsed.variants;
        found.push_back({name.left(kTimeFormat.size()) + QStringLiteral("%1").arg(parsed.number, 6, 10, QLatin1Char('0')), run});
    }
    std::stable_sort(found.begin(), found.end(), [](const auto &a, const auto &b) { return a.first < b.first; });
    QList<StoredRun> runs;
    for (const auto &[key, run] : found)
        runs << run;
    return runs;
}

bool looksLikeResults(const QByteArray &bytes)
{
    const QByteArray head = bytes.left(64).trimmed();
    if (!head.startsWith('{'))
        return false;
    const QJsonObject json = QJsonDocument::fromJson(bytes).object();
    return json.contains(QLatin1String("tool")) && json.contains(QLatin1String("variants"));
}

} // namespace edgesse::runs
