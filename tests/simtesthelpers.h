#pragma once

// Helpers shared by the engine's end-to-end tests: load a bundled scenario, shrink a
// variant so it runs in seconds, run it for real and return its result.

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"
#include "core/sim/run.h"

#include <QString>
#include <QTest>

#include <algorithm>
#include <mutex>
#include <optional>

namespace edgesse::simtest {

inline scenario::Scenario loadBundled(const QString &name)
{
    const QString path = QStringLiteral(EDGESSE_SOURCE_DIR "/scenarios/") + name + QStringLiteral(".yaml");
    const scenario::LoadResult loaded = scenario::load(path);
    if (!loaded.ok()) {
        for (const auto &d : loaded.diagnostics)
            qWarning("%s", qPrintable(d.toString()));
        qFatal("bundled scenario %s does not load", qPrintable(path));
    }
    return *loaded.scenario;
}

// The first variant of a scenario given as text (`file` names it in diagnostics).
inline scenario::Variant firstVariantOf(const QByteArray &text, const QString &file)
{
    const scenario::LoadResult loaded = scenario::loadFromText(text, file);
    if (!loaded.ok())
        qFatal("%s", qPrintable(loaded.diagnostics.front().toString()));
    return loaded.scenario->variants.front();
}

inline scenario::Variant variantNamed(const scenario::Scenario &s, const QString &name)
{
    const scenario::Variant *v = s.variant(name);
    if (!v)
        qFatal("scenario %s has no variant %s", qPrintable(s.name), qPrintable(name));
    return *v;
}

// Every population down to at most `maxBrowsers`, the run down to `warmup` + `duration`.
inline scenario::Variant shrunk(scenario::Variant v, qint64 maxBrowsers, std::chrono::microseconds warmup,
                                std::chrono::microseconds duration)
{
    for (auto &group : v.clients)
        group.count = std::min(group.count, maxBrowsers);
    v.warmup = warmup;
    v.duration = duration;
    return v;
}

// Populations and connection caps divided by `factor` (rounded up), so who is over a cap
// stays over it; the run down to `warmup` + `duration`.
inline scenario::Variant scaledDown(scenario::Variant v, qint64 factor, std::chrono::microseconds warmup,
                                    std::chrono::microseconds duration)
{
    auto divide = [factor](qint64 n) { return (n + factor - 1) / factor; };
    for (auto &group : v.clients)
        group.count = divide(group.count);
    for (auto &node : v.nodes)
        node.maxConnections = divide(node.maxConnections);
    v.warmup = warmup;
    v.duration = duration;
    return v;
}

struct Outcome {
    std::optional<metrics::VariantResult> result;
    QString error;
};

// `externalFolder`: where the user's own servers get their folders (a temporary one when empty).
inline Outcome runVariant(const scenario::Variant &variant, const QString &externalFolder = {})
{
    sim::Run::Settings settings;
    settings.externalFolder = externalFolder;
    sim::Run run(variant, settings);
    std::mutex mutex;
    QString error;
    bool done = false;
    QObject::connect(&run, &sim::Run::failed, &run, [&](const QString &reason) {
        std::lock_guard lock(mutex);
        error = reason;
    }, Qt::DirectConnection);
    QObject::connect(&run, &sim::Run::finished, &run, [&] {
        std::lock_guard lock(mutex);
        done = true;
    }, Qt::DirectConnection);
    run.start();
    run.wait();
    Outcome outcome;
    std::lock_guard lock(mutex);
    outcome.error = error;
    if (done)
        outcome.result = run.result();
    return outcome;
}

inline const metrics::GroupResult *group(const metrics::VariantResult &r, const QString &name)
{
    for (const auto &g : r.groups) {
        if (g.name == name)
            return &g;
    }
    return nullptr;
}

inline std::uint64_t reconnectsBy(const metrics::VariantResult &r, const QString &cause)
{
    const auto it = r.streams.reconnectsByCause.find(cause);
    return it == r.streams.reconnectsByCause.end() ? 0 : it->second;
}

} // namespace edgesse::simtest

#define RUN_VARIANT(resultVar, variant)                                                                               \
    const auto resultVar##Outcome = edgesse::simtest::runVariant(variant);                                             \
    QVERIFY2(resultVar##Outcome.result.has_value(), qPrintable(resultVar##Outcome.error));                            \
    const metrics::VariantResult &resultVar = *resultVar##Outcome.result;                                              \
    QCOMPARE(resultVar.events.delivered + resultVar.events.lost, resultVar.events.expected)
