#include "core/scenario/loader/merge.h"

#include <QPair>
#include <QRegularExpression>

#include <utility>

namespace edgesse::scenario::loader {

namespace {

std::optional<QPair<QString, QString>> betweenPair(const Value &item)
{
    if (!item.isMap())
        return std::nullopt;
    const Value *between = item.find(u"between");
    if (!between || !between->isSequence() || between->items.size() != 2 || !between->items[0].isScalar() || !between->items[1].isScalar())
        return std::nullopt;
    QString a = between->items[0].scalar;
    QString b = between->items[1].scalar;
    if (b < a)
        std::swap(a, b);
    return QPair<QString, QString>(a, b);
}

std::optional<QString> itemName(const Value &item)
{
    if (!item.isMap())
        return std::nullopt;
    const Value *n = item.find(u"name");
    if (!n || !n->isScalar())
        return std::nullopt;
    return n->scalar;
}

// Lists of named items (clients) merge by name, links by their two endpoints; an overlay
// item that matches nothing is appended.
void mergeList(Value &base, const Value &overlay, bool byEndpoints)
{
    for (const Value &item : overlay.items) {
        Value *match = nullptr;
        for (Value &existing : base.items) {
            if (byEndpoints) {
                const auto a = betweenPair(existing);
                if (a && a == betweenPair(item))
                    match = &existing;
            } else {
                const auto a = itemName(existing);
                if (a && a == itemName(item))
                    match = &existing;
            }
        }
        if (match)
            deepMerge(*match, item);
        else
            base.items.push_back(item);
    }
}

} // namespace

void deepMerge(Value &base, const Value &overlay)
{
    if (!base.isMap() || !overlay.isMap()) {
        base = overlay;
        return;
    }
    for (const Entry &e : overlay.entries) {
        Value *existing = base.find(e.key);
        if (!existing) {
            base.entries.push_back(e);
        } else if (existing->isMap() && e.value.isMap()) {
            deepMerge(*existing, e.value);
        } else if (existing->isSequence() && e.value.isSequence()
                   && (e.key == QLatin1String("clients") || e.key == QLatin1String("links"))) {
            mergeList(*existing, e.value, e.key == QLatin1String("links"));
        } else {
            *existing = e.value;
        }
    }
}

std::optional<QList<Segment>> parseSweepPath(const QString &path)
{
    static const QRegularExpression segment(QStringLiteral("^([A-Za-z0-9_-]+)(?:\\[([^\\]]+)\\])?$"));
    QList<Segment> result;
    for (const QString &part : path.split(u'.')) {
        const auto m = segment.match(part);
        if (!m.hasMatch())
            return std::nullopt;
        Segment s{m.captured(1), std::nullopt};
        if (m.hasCaptured(2))
            s.selector = m.captured(2);
        result << s;
    }
    return result;
}

QString setAtPath(Value &root, const QList<Segment> &segments, const Value &value, const SweepDimension &dim)
{
    Value *current = &root;
    for (qsizetype i = 0; i < segments.size(); ++i) {
        const Segment &s = segments[i];
        if (!current->isMap())
            return QStringLiteral("\"%1\" is not a mapping in this variant").arg(s.key);
        Value *next = current->find(s.key);
        if (!next) {
            if (s.selector)
                return QStringLiteral("this variant has no \"%1\"").arg(s.key);
            Entry e;
            e.key = s.key;
            e.line = dim.line;
            e.column = dim.column;
            e.value.kind = Value::Kind::Map;
            e.value.line = dim.line;
            e.value.column = dim.column;
            e.value.path = childPath(current->path, s.key);
            current->entries.push_back(e);
            next = &current->entries.back().value;
        }
        if (s.selector) {
            if (!next->isSequence())
                return QStringLiteral("\"%1\" is not a list").arg(s.key);
            bool isIndex = false;
            const int index = s.selector->toInt(&isIndex);
            Value *item = nullptr;
            if (isIndex) {
                if (index >= 0 && size_t(index) < next->items.size())
                    item = &next->items[size_t(index)];
            } else {
                for (Value &candidate : next->items)
                    if (itemName(candidate) == *s.selector)
                        item = &candidate;
            }
            if (!item)
                return QStringLiteral("\"%1\" has no item %2").arg(s.key, *s.selector);
            next = item;
        }
        if (i + 1 == segments.size()) {
            *next = value;
            return {};
        }
        current = next;
    }
    return {};
}

} // namespace edgesse::scenario::loader
