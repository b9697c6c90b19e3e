#include "app/cli/clioptions.h"

#include "core/scenario/units.h"

#include <cstdio>

namespace edgesse::cli {

namespace {

bool applyDuration(const QString &value, RunArguments &parsed, QString *error)
{
    QString unitError;
    const auto duration = scenario::units::parseDuration(value, &unitError);
    if (!duration || duration->count() <= 0) {
        *error = QStringLiteral("--duration: expected a positive duration like 10s or 500ms, got \"%1\"").arg(value);
        return false;
    }
    parsed.duration = *duration;
    return true;
}

bool applySeed(const QString &value, RunArguments &parsed, QString *error)
{
    bool ok = false;
    const qulonglong seed = value.toULongLong(&ok);
    if (!ok) {
        *error = QStringLiteral("--seed: expected a non-negative integer, got \"%1\"").arg(value);
        return false;
    }
    parsed.seed = seed;
    return true;
}

bool applyTimeScale(const QString &value, RunArguments &parsed, QString *error)
{
    if (value == QLatin1String("auto")) {
        parsed.autoTimeScale = true;
        return true;
    }
    bool ok = false;
    const double scale = value.toDouble(&ok);
    if (!ok || !(scale >= 1.0) || scale > 1000.0) {
        *error = QStringLiteral("--time-scale: expected a number from 1 to 1000 (how many times slower than "
                                "modelled to run) or auto, got \"%1\"").arg(value);
        return false;
    }
    parsed.timeScale = scale;
    return true;
}

bool applyTolerance(const QString &value, RunArguments &parsed, QString *error)
{
    QString unitError;
    const auto tolerance = scenario::units::parseDuration(value, &unitError);
    if (!tolerance || tolerance->count() <= 0) {
        *error = QStringLiteral("--tolerance: expected a positive duration like 1ms or 500us (the simulator "
                                "error p99 you accept), got \"%1\"").arg(value);
        return false;
    }
    parsed.toleranceMs = double(tolerance->count()) / 1000.0;
    return true;
}

// An option that takes a value (--name VALUE or --name=VALUE).
struct ValueOption {
    QLatin1String name;
    bool runOnly;  // needs allowOut
    bool seedOnly; // needs allowSeed
    bool (*apply)(const QString &value, RunArguments &parsed, QString *error);
};

const ValueOption kValueOptions[] = {
    {QLatin1String("--out"), true, false,
     [](const QString &v, RunArguments &p, QString *) { p.outDir = v; return true; }},
    {QLatin1String("--variant"), false, false,
     [](const QString &v, RunArguments &p, QString *) { p.variants.push_back(v); return true; }},
    {QLatin1String("--duration"), false, false, &applyDuration},
    {QLatin1String("--seed"), false, true, &applySeed},
    {QLatin1String("--time-scale"), true, false, &applyTimeScale},
    {QLatin1String("--tolerance"), true, false, &applyTolerance},
    {QLatin1String("--tls-cert"), false, false,
     [](const QString &v, RunArguments &p, QString *) { p.tlsCert = v; return true; }},
    {QLatin1String("--tls-key"), false, false,
     [](const QString &v, RunArguments &p, QString *) { p.tlsKey = v; return true; }},
};

const ValueOption *findValueOption(const QString &option, bool allowOut, bool allowSeed)
{
    for (const ValueOption &o : kValueOptions)
        if (option == o.name && (allowOut || !o.runOnly) && (allowSeed || !o.seedOnly))
            return &o;
    return nullptr;
}

// The value of the option at args[i]: after '=' in the same word, else the next word (i moves on).
std::optional<QString> valueOf(const QStringList &args, int &i, const QString &option, QString *error)
{
    const QString &word = args[i];
    const qsizetype eq = word.indexOf(QLatin1Char('='));
    if (eq > 0)
        return word.mid(eq + 1);
    if (i + 1 >= args.size()) {
        *error = QStringLiteral("%1 needs a value").arg(option);
        return std::nullopt;
    }
    return args[++i];
}

bool checkComplete(const RunArguments &parsed, QString *error)
{
    if (parsed.file.isEmpty()) {
        *error = QStringLiteral("missing the scenario FILE");
        return false;
    }
    if (parsed.tlsCert.isEmpty() != parsed.tlsKey.isEmpty()) {
        *error = QStringLiteral("--tls-cert and --tls-key go together (the certificate and its private key, PEM)");
        return false;
    }
    return true;
}

} // namespace

std::optional<RunArguments> parseRunArguments(const QStringList &args, bool allowOut, bool allowSeed, QString *error)
{
    RunArguments parsed;
    for (int i = 0; i < args.size(); ++i) {
        const QString &word = args[i];
        const QString option = word.section(QLatin1Char('='), 0, 0);
        if (const ValueOption *known = findValueOption(option, allowOut, allowSeed)) {
            const auto value = valueOf(args, i, option, error);
            if (!value || !known->apply(*value, parsed, error))
                return std::nullopt;
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
    if (!checkComplete(parsed, error))
        return std::nullopt;
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
