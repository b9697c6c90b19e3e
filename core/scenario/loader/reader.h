#pragma once

#include "core/scenario/keywords.h"
#include "core/scenario/loader/limits.h"
#include "core/scenario/loader/report.h"
#include "core/scenario/loader/tree.h"

#include <optional>

namespace edgesse::scenario::loader {

// Reading typed values; each reports its own problem and returns nullopt.
class Reader
{
public:
    explicit Reader(Report &report) : m_report(report) {}

    Report &report() { return m_report; }

    void checkKeys(const Value &map, const QStringList &allowed, const QString &context = {});

    bool expectMap(const Value &v, const QString &what);

    bool expectSequence(const Value &v, const QString &what);

    const Value *require(const Value &map, const QString &key, const QString &hint);

    std::optional<QString> scalar(const Value &v, const QString &what);

    std::optional<QString> name(const Value &v, const QString &what);

    std::optional<qint64> integer(const Value &v, qint64 min, qint64 max, const QString &what);

    std::optional<double> number(const Value &v, double min, double max, const QString &what);

    std::optional<bool> boolean(const Value &v);

    // A duration in [min, max]; `absentWords` ("none", "off") give std::nullopt inside the result.
    std::optional<std::optional<microseconds>> duration(const Value &v, microseconds min, const QStringList &absentWords = {},
                                                        microseconds max = kMaxDuration);
    std::optional<microseconds> requiredDuration(const Value &v, microseconds min, microseconds max = kMaxDuration);

    template<typename Parse>
    auto unit(const Value &v, const QString &what, Parse parse) -> decltype(parse(QStringView(), nullptr))
    {
        if (!v.isScalar()) {
            m_report.at(v, QStringLiteral("expected %1, got %2").arg(what, v.describe()));
            return std::nullopt;
        }
        QString error;
        auto result = parse(v.scalar, &error);
        if (!result)
            m_report.at(v, error);
        return result;
    }

    // One of E's keywords (keywords.h).
    template<typename E>
    std::optional<E> choice(const Value &v, const QString &what)
    {
        const auto table = keywords<E>();
        QStringList words;
        for (const Keyword<E> &k : table)
            words << QString(k.word);
        const auto index = choiceIndex(v, words, what);
        if (!index)
            return std::nullopt;
        return table[*index].value;
    }

private:
    std::optional<qsizetype> choiceIndex(const Value &v, const QStringList &words, const QString &what);

    Report &m_report;
};

} // namespace edgesse::scenario::loader
