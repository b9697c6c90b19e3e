#include "core/scenario/loader/tree.h"

#include <QRegularExpression>

namespace edgesse::scenario::loader {

const Value *Value::find(QStringView key) const
{
    for (const Entry &e : entries)
        if (e.key == key)
            return &e.value;
    return nullptr;
}

Value *Value::find(QStringView key)
{
    for (Entry &e : entries)
        if (e.key == key)
            return &e.value;
    return nullptr;
}

QString Value::describe() const
{
    switch (kind) {
    case Kind::Null:
        return QStringLiteral("nothing");
    case Kind::Scalar:
        return u'"' + scalar + u'"';
    case Kind::Sequence:
        return QStringLiteral("a list");
    case Kind::Map:
        return QStringLiteral("a mapping");
    }
    return {};
}

QString childPath(const QString &parent, const QString &key)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_-]+$"));
    const QString part = plain.match(key).hasMatch() ? key : u'"' + key + u'"';
    return parent.isEmpty() ? part : parent + u'.' + part;
}

QString indexPath(const QString &parent, qsizetype index)
{
    return parent + u'[' + QString::number(index) + u']';
}

} // namespace edgesse::scenario::loader
