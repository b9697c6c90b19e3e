#include "core/scenario/loader/converter.h"

#include "core/scenario/loader/limits.h"

#include <QHash>

namespace edgesse::scenario::loader {

namespace {

class Converter
{
public:
    explicit Converter(Report &report) : m_report(report) {}

    Value convert(const YAML::Node &node, const QString &path, int depth, int line, int column)
    {
        Value v;
        v.path = path;
        const YAML::Mark mark = node.Mark();
        v.line = mark.line >= 0 ? mark.line + 1 : line;
        v.column = mark.column >= 0 ? mark.column + 1 : column;
        if (++m_values > kMaxValues) {
            if (!m_tooMany)
                m_report.at(v, QStringLiteral("the document expands to more than %1 values (aliases repeated too often?)").arg(kMaxValues));
            m_tooMany = true;
            return v;
        }
        if (depth > kMaxDepth) {
            if (!m_tooDeep)
                m_report.at(v, QStringLiteral("nested deeper than %1 levels").arg(kMaxDepth));
            m_tooDeep = true;
            return v;
        }
        switch (node.Type()) {
        case YAML::NodeType::Undefined:
        case YAML::NodeType::Null:
            break;
        case YAML::NodeType::Scalar:
            v.kind = Value::Kind::Scalar;
            v.scalar = QString::fromStdString(node.Scalar());
            break;
        case YAML::NodeType::Sequence: {
            v.kind = Value::Kind::Sequence;
            qsizetype i = 0;
            for (const YAML::Node &item : node) {
                v.items.push_back(convert(item, indexPath(path, i), depth + 1, v.line, v.column));
                ++i;
                if (m_tooMany)
                    break;
            }
            break;
        }
        case YAML::NodeType::Map: {
            v.kind = Value::Kind::Map;
            QHash<QString, int> firstLine;
            for (auto it = node.begin(); it != node.end(); ++it) {
                const YAML::Node key = it->first;
                const YAML::Mark keyMark = key.Mark();
                Entry e;
                e.line = keyMark.line >= 0 ? keyMark.line + 1 : v.line;
                e.column = keyMark.column >= 0 ? keyMark.column + 1 : v.column;
                if (!key.IsScalar()) {
                    m_report.add(e.line, e.column,
                                 (path.isEmpty() ? QString() : path + QStringLiteral(": "))
                                     + QStringLiteral("a key must be a plain word, not a list or mapping"));
                    continue;
                }
                e.key = QString::fromStdString(key.Scalar());
                const QString entryPath = childPath(path, e.key);
                if (firstLine.contains(e.key)) {
                    m_report.add(e.line, e.column,
                                 QStringLiteral("%1: duplicate key (first given on line %2)").arg(entryPath).arg(firstLine[e.key]));
                    continue;
                }
                firstLine.insert(e.key, e.line);
                e.value = convert(it->second, entryPath, depth + 1, e.line, e.column);
                v.entries.push_back(std::move(e));
                if (m_tooMany)
                    break;
            }
            break;
        }
        }
        return v;
    }

private:
    Report &m_report;
    int m_values = 0;
    bool m_tooMany = false;
    bool m_tooDeep = false;
};

} // namespace

Value convertDocument(const YAML::Node &document, Report &report)
{
    Converter converter(report);
    return converter.convert(document, QString(), 0, 1, 1);
}

} // namespace edgesse::scenario::loader
