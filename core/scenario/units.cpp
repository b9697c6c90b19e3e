#include "core/scenario/units.h"

#include <QList>

#include <cmath>
#include <limits>
#include <vector>

namespace edgesse::scenario::units {

namespace {

struct Unit {
    QLatin1String suffix;
    double factor;
};

struct Split {
    QStringView number;
    QStringView unit;
};

// "12.5ms" → {"12.5", "ms"}; spaces between number and unit are allowed.
Split split(QStringView text)
{
    text = text.trimmed();
    qsizetype i = 0;
    while (i < text.size() && (text[i].isDigit() || text[i] == u'.' || text[i] == u'-' || text[i] == u'+'
                               || ((text[i] == u'e' || text[i] == u'E') && i > 0 && i + 1 < text.size()
                                   && (text[i + 1].isDigit() || text[i + 1] == u'-' || text[i + 1] == u'+'))))
        ++i;
    return {text.left(i), text.mid(i).trimmed()};
}

QString quoted(QStringView text)
{
    return u'"' + text.toString() + u'"';
}

QString unitList(const std::vector<Unit> &unitsAllowed)
{
    QStringList names;
    for (const Unit &u : unitsAllowed)
        names << QString(u.suffix);
    if (names.size() == 1)
        return names.first();
    const QString last = names.takeLast();
    return names.join(QStringLiteral(", ")) + QStringLiteral(" or ") + last;
}

// Parses NUMBER UNIT against a unit table; the result is number × factor.
std::optional<double> parseWithUnit(QStringView text, const std::vector<Unit> &table, const QString &what,
                                    const QString &example, QString *error)
{
    const auto fail = [&](const QString &detail) -> std::optional<double> {
        if (error)
            *error = QStringLiteral("expected %1 like %2, got %3%4").arg(what, example, quoted(text.trimmed()), detail);
        return std::nullopt;
    };
    const Split parts = split(text);
    if (parts.number.isEmpty())
        return fail({});
    bool ok = false;
    const double number = parts.number.toDouble(&ok);
    if (!ok || !std::isfinite(number))
        return fail({});
    if (parts.unit.isEmpty())
        return fail(QStringLiteral(" (a number needs a unit: %1)").arg(unitList(table)));
    for (const Unit &u : table) {
        if (parts.unit == u.suffix) {
            if (number < 0)
                return fail(QStringLiteral(" (must not be negative)"));
            return number * u.factor;
        }
    }
    // A unit in the wrong case or misspelt: suggest the closest one.
    QString best;
    int bestDistance = 3;
    for (const Unit &u : table) {
        const int d = parts.unit.compare(u.suffix, Qt::CaseInsensitive) == 0 ? 0 : editDistance(parts.unit, QString(u.suffix));
        if (d < bestDistance) {
            bestDistance = d;
            best = u.suffix;
        }
    }
    if (!best.isEmpty())
        return fail(QStringLiteral(" (unknown unit \"%1\"; did you mean \"%2\"?)").arg(parts.unit.toString(), best));
    return fail(QStringLiteral(" (unknown unit \"%1\"; use %2)").arg(parts.unit.toString(), unitList(table)));
}

// Values beyond this are not meaningful for any quantity here and would overflow qint64.
constexpr double kMaxMagnitude = 9.0e15;

std::optional<qint64> toWhole(std::optional<double> value, QStringView text, const QString &what,
                              const QString &resolution, QString *error)
{
    if (!value)
        return std::nullopt;
    if (*value > kMaxMagnitude) {
        if (error)
            *error = QStringLiteral("%1 %2 is too large").arg(what, quoted(text.trimmed()));
        return std::nullopt;
    }
    const double rounded = std::round(*value);
    if (std::fabs(*value - rounded) > 1e-6 * std::max(1.0, std::fabs(*value))) {
        if (error)
            *error = QStringLiteral("%1 %2 is finer than one %3").arg(what, quoted(text.trimmed()), resolution);
        return std::nullopt;
    }
    return static_cast<qint64>(rounded);
}

} // namespace

std::optional<std::chrono::microseconds> parseDuration(QStringView text, QString *error)
{
    static const std::vector<Unit> table{{QLatin1String("us"), 1.0},
                                         {QLatin1String("ms"), 1e3},
                                         {QLatin1String("s"), 1e6},
                                         {QLatin1String("m"), 60e6}};
    const auto us = toWhole(parseWithUnit(text, table, QStringLiteral("a duration"), QStringLiteral("40ms"), error),
                            text, QStringLiteral("duration"), QStringLiteral("microsecond"), error);
    if (!us)
        return std::nullopt;
    return std::chrono::microseconds(*us);
}

std::optional<qint64> parseBytes(QStringView text, QString *error)
{
    static const std::vector<Unit> table{
        {QLatin1String("B"), 1.0}, {QLatin1String("KB"), 1024.0}, {QLatin1String("MB"), 1024.0 * 1024.0}};
    return toWhole(parseWithUnit(text, table, QStringLiteral("a size"), QStringLiteral("256B"), error), text,
                   QStringLiteral("size"), QStringLiteral("byte"), error);
}

std::optional<qint64> parseBandwidth(QStringView text, QString *error)
{
    if (text.trimmed() == QLatin1String("unlimited"))
        return 0;
    static const std::vector<Unit> table{
        {QLatin1String("kbps"), 1e3}, {QLatin1String("Mbps"), 1e6}, {QLatin1String("Gbps"), 1e9}};
    const auto bps = toWhole(parseWithUnit(text, table, QStringLiteral("a bandwidth"), QStringLiteral("100Mbps"), error),
                             text, QStringLiteral("bandwidth"), QStringLiteral("bit per second"), error);
    if (bps && *bps == 0) {
        if (error)
            *error = QStringLiteral("bandwidth %1 is zero; write \"unlimited\" for no limit").arg(quoted(text.trimmed()));
        return std::nullopt;
    }
    return bps;
}

std::optional<double> parseRate(QStringView text, QString *error)
{
    const auto fail = [&](const QString &detail) -> std::optional<double> {
        if (error)
            *error = QStringLiteral("expected a rate like 20/s or 1200/m, got %1%2").arg(quoted(text.trimmed()), detail);
        return std::nullopt;
    };
    const QStringView trimmed = text.trimmed();
    const qsizetype slash = trimmed.indexOf(u'/');
    if (slash < 0) {
        bool ok = false;
        static_cast<void>(trimmed.toDouble(&ok));
        return fail(ok ? QStringLiteral(" (a number needs a unit: /s or /m)") : QString());
    }
    bool ok = false;
    const double number = trimmed.left(slash).trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(number))
        return fail({});
    if (number < 0)
        return fail(QStringLiteral(" (must not be negative)"));
    const QStringView per = trimmed.mid(slash + 1).trimmed();
    if (per == QLatin1String("s"))
        return number;
    if (per == QLatin1String("m"))
        return number / 60.0;
    return fail(QStringLiteral(" (unknown unit \"/%1\"; use /s or /m)").arg(per.toString()));
}

std::optional<double> parseProbability(QStringView text, QString *error)
{
    const QStringView trimmed = text.trimmed();
    bool ok = false;
    double value = 0;
    if (trimmed.endsWith(u'%'))
        value = trimmed.chopped(1).trimmed().toDouble(&ok) / 100.0;
    else
        value = trimmed.toDouble(&ok);
    if (!ok || !std::isfinite(value)) {
        if (error)
            *error = QStringLiteral("expected a probability like 0.01 or 1%, got %1").arg(quoted(trimmed));
        return std::nullopt;
    }
    if (value < 0 || value > 1) {
        if (error)
            *error = QStringLiteral("probability %1 is outside 0..1 (0%..100%)").arg(quoted(trimmed));
        return std::nullopt;
    }
    return value;
}

QString formatDuration(std::chrono::microseconds duration)
{
    const qint64 us = duration.count();
    if (us != 0 && us % 60'000'000 == 0)
        return QString::number(us / 60'000'000) + u'm';
    if (us != 0 && us % 1'000'000 == 0)
        return QString::number(us / 1'000'000) + u's';
    if (us % 1000 == 0)
        return QString::number(us / 1000) + QStringLiteral("ms");
    return QString::number(us) + QStringLiteral("us");
}

QString formatBytes(qint64 bytes)
{
    if (bytes != 0 && bytes % (1024 * 1024) == 0)
        return QString::number(bytes / (1024 * 1024)) + QStringLiteral("MB");
    if (bytes != 0 && bytes % 1024 == 0)
        return QString::number(bytes / 1024) + QStringLiteral("KB");
    return QString::number(bytes) + u'B';
}

QString formatBandwidth(qint64 bitsPerSecond)
{
    if (bitsPerSecond <= 0)
        return QStringLiteral("unlimited");
    if (bitsPerSecond % 1'000'000'000 == 0)
        return QString::number(bitsPerSecond / 1'000'000'000) + QStringLiteral("Gbps");
    if (bitsPerSecond % 1'000'000 == 0)
        return QString::number(bitsPerSecond / 1'000'000) + QStringLiteral("Mbps");
    if (bitsPerSecond % 1000 == 0)
        return QString::number(bitsPerSecond / 1000) + QStringLiteral("kbps");
    // Not expressible exactly in the language's units: write it in kbps with decimals.
    return QString::number(static_cast<double>(bitsPerSecond) / 1000.0, 'g', 17) + QStringLiteral("kbps");
}

QString formatRate(double eventsPerSecond)
{
    return QString::number(eventsPerSecond, 'g', 17) + QStringLiteral("/s");
}

int editDistance(QStringView a, QStringView b)
{
    std::vector<int> previous(static_cast<size_t>(b.size()) + 1);
    std::vector<int> current(previous.size());
    for (size_t j = 0; j < previous.size(); ++j)
        previous[j] = static_cast<int>(j);
    for (qsizetype i = 1; i <= a.size(); ++i) {
        current[0] = static_cast<int>(i);
        for (qsizetype j = 1; j <= b.size(); ++j) {
            const int substitution = previous[static_cast<size_t>(j - 1)] + (a[i - 1] == b[j - 1] ? 0 : 1);
            current[static_cast<size_t>(j)] = std::min({previous[static_cast<size_t>(j)] + 1,
                                                        current[static_cast<size_t>(j - 1)] + 1, substitution});
        }
        std::swap(previous, current);
    }
    return previous[static_cast<size_t>(b.size())];
}

} // namespace edgesse::scenario::units
