#include "app/gui/schemacompletion.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSet>

#include <algorithm>

namespace edgesse::gui {

namespace {

void collect(const QJsonValue &value, QSet<QString> &words)
{
    if (value.isArray()) {
        for (const QJsonValue item : value.toArray())
            collect(item, words);
        return;
    }
    if (!value.isObject())
        return;
    const QJsonObject object = value.toObject();
    const QJsonObject properties = object.value(QLatin1String("properties")).toObject();
    for (auto it = properties.begin(); it != properties.end(); ++it)
        words.insert(it.key());
    for (const QJsonValue option : object.value(QLatin1String("enum")).toArray())
        if (option.isString())
            words.insert(option.toString());
    for (auto it = object.begin(); it != object.end(); ++it)
        collect(it.value(), words);
}

} // namespace

QStringList schemaWords(const QByteArray &schemaJson)
{
    QSet<QString> words;
    collect(QJsonDocument::fromJson(schemaJson).object(), words);
    QStringList sorted(words.begin(), words.end());
    std::sort(sorted.begin(), sorted.end());
    return sorted;
}

QStringList bundledSchemaWords()
{
    QFile file(QStringLiteral(":/edgesse/edgesse.schema.json"));
    return file.open(QIODevice::ReadOnly) ? schemaWords(file.readAll()) : QStringList();
}

} // namespace edgesse::gui
