#pragma once

#include "core/scenario/loader/tree.h"
#include "core/scenario/scenario.h"

#include <QList>
#include <QSet>
#include <QStringList>

namespace edgesse::scenario::loader {

// Every problem found in one file, each reported once, returned in file order.
class Report
{
public:
    explicit Report(QString file) : m_file(std::move(file)) {}

    void add(int line, int column, const QString &message);
    void at(const Value &v, const QString &message);
    int count() const { return int(m_list.size()); }
    // Problems reported so far, repeats included: a variant that repeats a problem
    // another variant already reported is just as broken.
    int attempts() const { return m_attempts; }
    QList<Diagnostic> take();

private:
    QString m_file;
    QList<Diagnostic> m_list;
    QSet<QString> m_seen;
    int m_attempts = 0;
};

// The candidate closest to `word` by edit distance, or empty when none is close.
QString suggestion(const QString &word, const QStringList &candidates);
// "a, b or c"
QString oneOf(const QStringList &words);

} // namespace edgesse::scenario::loader
