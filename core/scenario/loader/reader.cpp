#include "core/scenario/loader/reader.h"

#include "core/scenario/loader/limits.h"
#include "core/scenario/units.h"

#include <QRegularExpression>

#include <cmath>

namespace edgesse::scenario::loader {

using namespace std::chrono_literals;

namespace {

QString limitReason(microseconds max)
{
    if (max == kMaxLatency)
        return QStringLiteral("a one-way delay beyond that is no network path");
    if (max == kMaxRto)
        return QStringLiteral("the largest retransmission timeout Linux uses");
    if (max == kMaxPollDuration)
        return QStringLiteral("an hour");
    return QStringLiteral("24 hours, the longest duration a scenario models");
}

} // namespace

void Reader::checkKeys(const Value &map, const QStringList &allowed, const QString &context)
{
    for (const Entry &e : map.entries) {
        if (allowed.contains(e.key))
            continue;
        QString message = (map.path.isEmpty() ? QStringLiteral("unknown top-level key \"%1\"")
                                              : map.path + QStringLiteral(": unknown key \"%1\""))
                              .arg(e.key);
        if (!context.isEmpty())
            message += u' ' + context;
        const QString best = suggestion(e.key, allowed);
        if (!best.isEmpty())
            message += QStringLiteral("; did you mean \"%1\"?").arg(best);
        else
            message += QStringLiteral("; expected one of: %1").arg(allowed.join(QStringLiteral(", ")));
        m_report.add(e.line, e.column, message);
    }
}

bool Reader::expectMap(const Value &v, const QString &what)
{
    if (v.isMap())
        return true;
    m_report.at(v, QStringLiteral("expected %1 (a mapping of keys), got %2").arg(what, v.describe()));
    return false;
}

bool Reader::expectSequence(const Value &v, const QString &what)
{
    if (v.isSequence())
        return true;
    m_report.at(v, QStringLiteral("expected %1 (a list), got %2").arg(what, v.describe()));
    return false;
}

const Value *Reader::require(const Value &map, const QString &key, const QString &hint)
{
    const Value *v = map.find(key);
    if (!v)
        m_report.at(map, QStringLiteral("missing required key \"%1\" (%2)").arg(key, hint));
    return v;
}

std::optional<QString> Reader::scalar(const Value &v, const QString &what)
{
    if (v.isScalar())
        return v.scalar;
    m_report.at(v, QStringLiteral("expected %1, got %2").arg(what, v.describe()));
    return std::nullopt;
}

std::optional<QString> Reader::name(const Value &v, const QString &what)
{
    static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"));
    auto text = scalar(v, what);
    if (!text)
        return std::nullopt;
    if (!valid.match(*text).hasMatch()) {
        m_report.at(v, QStringLiteral("%1 \"%2\" must start with a letter or digit and contain only letters, digits, "
                                      "'-', '_' and '.' (at most 64)")
                           .arg(what, *text));
        return std::nullopt;
    }
    return text;
}

std::optional<qint64> Reader::integer(const Value &v, qint64 min, qint64 max, const QString &what)
{
    if (!v.isScalar()) {
        m_report.at(v, QStringLiteral("expected %1 (a whole number), got %2").arg(what, v.describe()));
        return std::nullopt;
    }
    bool ok = false;
    const qint64 n = v.scalar.trimmed().toLongLong(&ok);
    if (!ok) {
        m_report.at(v, QStringLiteral("expected %1 (a whole number), got %2").arg(what, v.describe()));
        return std::nullopt;
    }
    if (n < min || n > max) {
        m_report.at(v, QStringLiteral("must be between %1 and %2, got %3").arg(min).arg(max).arg(n));
        return std::nullopt;
    }
    return n;
}

std::optional<double> Reader::number(const Value &v, double min, double max, const QString &what)
{
    bool ok = false;
    const double n = v.isScalar() ? v.scalar.trimmed().toDouble(&ok) : 0.0;
    if (!ok || !std::isfinite(n)) {
        m_report.at(v, QStringLiteral("expected %1 (a number), got %2").arg(what, v.describe()));
        return std::nullopt;
    }
    if (n < min || n > max) {
        m_report.at(v, QStringLiteral("must be between %1 and %2, got %3").arg(min).arg(max).arg(v.scalar));
        return std::nullopt;
    }
    return n;
}

std::optional<bool> Reader::boolean(const Value &v)
{
    if (v.isScalar()) {
        // YAML 1.2: only true and false are booleans ("yes" and "on" are words).
        const QString s = v.scalar.trimmed();
        if (s == QLatin1String("true"))
            return true;
        if (s == QLatin1String("false"))
            return false;
    }
    m_report.at(v, QStringLiteral("expected true or false, got %1").arg(v.describe()));
    return std::nullopt;
}

std::optional<std::optional<microseconds>> Reader::duration(const Value &v, microseconds min, const QStringList &absentWords,
                                                           microseconds max)
{
    if (v.isScalar() && absentWords.contains(v.scalar.trimmed()))
        return std::optional<microseconds>();
    if (!v.isScalar()) {
        QString alt = absentWords.isEmpty() ? QString() : QStringLiteral(" or ") + absentWords.first();
        m_report.at(v, QStringLiteral("expected a duration like 40ms%1, got %2").arg(alt, v.describe()));
        return std::nullopt;
    }
    QString error;
    const auto d = units::parseDuration(v.scalar, &error);
    if (!d) {
        if (!absentWords.isEmpty() && error.startsWith(QLatin1String("expected a duration like 40ms")))
            error.insert(int(qstrlen("expected a duration like 40ms")), QStringLiteral(" or ") + absentWords.first());
        m_report.at(v, error);
        return std::nullopt;
    }
    if (*d < min) {
        m_report.at(v, min == 0us ? QStringLiteral("must not be negative")
                                  : QStringLiteral("must be at least %1, got %2").arg(units::formatDuration(min), v.scalar));
        return std::nullopt;
    }
    if (*d > max) {
        m_report.at(v, QStringLiteral("must be at most %1 (%2), got %3").arg(units::formatDuration(max), limitReason(max), v.scalar));
        return std::nullopt;
    }
    return std::optional<microseconds>(*d);
}

std::optional<microseconds> Reader::requiredDuration(const Value &v, microseconds min, microseconds max)
{
    const auto d = duration(v, min, {}, max);
    if (!d)
        return std::nullopt;
    return *d;
}

std::optional<qsizetype> Reader::choiceIndex(const Value &v, const QStringList &words, const QString &what)
{
    if (v.isScalar()) {
        const qsizetype index = words.indexOf(v.scalar.trimmed());
        if (index >= 0)
            return index;
        const QString best = suggestion(v.scalar.trimmed(), words);
        m_report.at(v, QStringLiteral("unknown %1 %2; expected %3%4")
                           .arg(what, v.describe(), oneOf(words),
                                best.isEmpty() ? QString() : QStringLiteral(" (did you mean \"%1\"?)").arg(best)));
        return std::nullopt;
    }
    m_report.at(v, QStringLiteral("expected %1 (%2), got %3").arg(what, oneOf(words), v.describe()));
    return std::nullopt;
}

} // namespace edgesse::scenario::loader
