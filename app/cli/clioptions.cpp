#include "app/cli/clioptions.h"

#include "core/scenario/units.h"

#include <cstdio>

namespace edgesse::cli {

std::optional<RunArguments> parseRunArguments(const QStringList &args, bool allowOut, bool allowSeed, QString *error)
{
    RunArguments parsed;
    auto valueOf = [&](int &i, const QString &option) -> std::optional<QString> {
        const QString &word = args[i];
        const qsizetype eq = word.indexOf(QLatin1Char('='));
        if (eq > 0)
            return word.mid(eq + 1);
        if (i + 1 >= args.size()) {
            *error = QStringLiteral("%1 needs a value").arg(option);
            return std::nullopt;
        }
        return args[++i];
    };
    for (int i = 0; i < args.size(); ++i) {
        const QString &word = args[i];
        const QString option = word.section(QLatin1Char('='), 0, 0);
        if (allowOut && option == QLatin1String("--out")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            parsed.outDir = *value;
        } else if (option == QLatin1String("--variant")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            parsed.variants.push_back(*value);
        } else if (option == QLatin1String("--duration")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            QString unitError;
            const auto duration = scenario::units::parseDuration(*value, &unitError);
            if (!duration || duration->count() <= 0) {
                *error = QStringLiteral("--duration: expected a positive duration like 10s or 500ms, got \"%1\"").arg(*value);
                return std::nullopt;
            }
            parsed.duration = *duration;
        } else if (allowSeed && option == QLatin1String("--seed")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            bool ok = false;
            const qulonglong seed = value->toULongLong(&ok);
            if (!ok) {
                *error = QStringLiteral("--seed: expected a non-negative integer, got \"%1\"").arg(*value);
                return std::nullopt;
            }
            parsed.seed = seed;
        } else if (allowOut && option == QLatin1String("--time-scale")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            if (*value == QLatin1String("auto")) {
                parsed.autoTimeScale = true;
                continue;
            }
            bool ok = false;
            const double scale = value->toDouble(&ok);
            if (!ok || !(scale >= 1.0) || scale > 1000.0) {
                *error = QStringLiteral("--time-scale: expected a number from 1 to 1000 (how many times slower than "
                                        "modelled to run) or auto, got \"%1\"").arg(*value);
                return std::nullopt;
            }
            parsed.timeScale = scale;
        } else if (allowOut && option == QLatin1String("--tolerance")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            QString unitError;
            const auto tolerance = scenario::units::parseDuration(*value, &unitError);
            if (!tolerance || tolerance->count() <= 0) {
                *error = QStringLiteral("--tolerance: expected a positive duration like 1ms or 500us (the simulator "
                                        "error p99 you accept), got \"%1\"").arg(*value);
                return std::nullopt;
            }
            parsed.toleranceMs = double(tolerance->count()) / 1000.0;
        } else if (option == QLatin1String("--tls-cert") || option == QLatin1String("--tls-key")) {
            const auto value = valueOf(i, option);
            if (!value)
                return std::nullopt;
            (option == QLatin1String("--tls-cert") ? parsed.tlsCert : parsed.tlsKey) = *value;
        } else if (word.startsWith(QLatin1Char('-')) && word != QLatin1String("-")) {
            *error = QStringLiteral("unknown option %1").arg(word);
            return std::nullopt;
        } else if (parsed.file.isEmpty()) {
            parsed.file = word;
        } else {
            *error = QStringLiteral("one scenario file at a time (got %1 and %2)").arg(parsed.file, word);
            return std::nullopt;
        }
    }
    if (parsed.file.isEmpty()) {
        *error = QStringLiteral("missing the scenario FILE");
        return std::nullopt;
    }
    if (parsed.tlsCert.isEmpty() != parsed.tlsKey.isEmpty()) {
        *error = QStringLiteral("--tls-cert and --tls-key go together (the certificate and its private key, PEM)");
        return std::nullopt;
    }
    return parsed;
}

void printErr(const QString &text)
{
    std::fputs(text.toLocal8Bit().constData(), stderr);
    std::fflush(stderr);
}

std::optional<scenario::Scenario> loadScenarioReporting(const QString &file, const scenario::LoadOptions &options)
{
    scenario::LoadResult loaded = scenario::load(file, options);
    if (!loaded.ok()) {
        for (const auto &diagnostic : loaded.diagnostics)
            printErr(diagnostic.toString() + QLatin1Char('\n'));
        return std::nullopt;
    }
    return std::move(loaded.scenario);
}

void reportUnknownVariant(const QString &command, const QString &file, const scenario::Scenario &scenario,
                          const QString &name)
{
    QStringList known;
    for (const auto &v : scenario.variants)
        known.push_back(v.name);
    printErr(QStringLiteral("edgesse %1: %2 has no variant named \"%3\" (it has: %4)\n")
                 .arg(command, file, name, known.join(QStringLiteral(", "))));
}

} // namespace edgesse::cli
