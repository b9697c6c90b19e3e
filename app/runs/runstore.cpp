#include "app/runs/runstore.h"

#include <QDateTime>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSaveFile>

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

QString storeRun(const metrics::RunResult &result, const QString &runsFolder, QString *error)
{
    const QDir root(runsFolder);
    const QString base = folderName(result);
    QString name = base;
    for (int n = 2; root.exists(name); ++n)
        name = base + QStringLiteral("-%1").arg(n);
    if (!root.mkpath(name)) {
        if (error)
            *error = QStringLiteral("%1: the folder cannot be created (check the path and its permissions)").arg(root.filePath(name));
        return {};
    }
    const QString path = QDir(root.filePath(name)).filePath(kResultsFile);
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(result.toJson()).toJson(QJsonDocument::Compact)) < 0
        || !file.commit()) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return {};
    }
    return path;
}

QList<StoredRun> storedRuns(const QString &runsFolder)
{
    QList<StoredRun> runs;
    const QDir root(runsFolder);
    for (const QString &name : root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name)) {
        const QString file = QDir(root.filePath(name)).filePath(kResultsFile);
        if (!QFileInfo::exists(file))
            continue;
        const QDateTime when = QDateTime::fromString(name.left(kTimeFormat.size()), kTimeFormat);
        StoredRun run;
        run.file = file;
        run.startedAt = when.isValid() ? when.toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")) : name;
        run.variants = name.mid(kTimeFormat.size() + 1).split(QLatin1Char('+'), Qt::SkipEmptyParts);
        runs << run;
    }
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
