#include "core/scenario/loader/report.h"

#include "core/scenario/units.h"

#include <algorithm>
#include <tuple>

namespace edgesse::scenario::loader {

void Report::add(int line, int column, const QString &message)
{
    ++m_attempts;
    const Diagnostic d{m_file, line, column, message};
    if (!m_seen.contains(d.toString())) {
        m_seen.insert(d.toString());
        m_list << d;
    }
}

void Report::at(const Value &v, const QString &message)
{
    add(v.line, v.column, v.path.isEmpty() ? message : v.path + QStringLiteral(": ") + message);
}

QList<Diagnostic> Report::take()
{
    std::stable_sort(m_list.begin(), m_list.end(),
                     [](const Diagnostic &a, const Diagnostic &b) { return std::tie(a.line, a.column) < std::tie(b.line, b.column); });
    return m_list;
}

QString suggestion(const QString &word, const QStringList &candidates)
{
    QString best;
    int bestDistance = std::max(2, int(word.size()) / 3) + 1;
    for (const QString &c : candidates) {
        const int d = units::editDistance(word.toLower(), c);
        if (d < bestDistance) {
            bestDistance = d;
            best = c;
        }
    }
    return best;
}

QString oneOf(const QStringList &words)
{
    QStringList quotedWords;
    for (const QString &w : words)
        quotedWords << w;
    if (quotedWords.size() <= 1)
        return quotedWords.join(QString());
    const QString last = quotedWords.takeLast();
    return quotedWords.join(QStringLiteral(", ")) + QStringLiteral(" or ") + last;
}

} // namespace edgesse::scenario::loader
