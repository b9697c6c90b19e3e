// libFuzzer target for the scenario loader: any bytes must give either a scenario or
// located diagnostics — never a crash, a hang or a sanitizer report.

#include "core/scenario/scenario.h"

#include <QByteArray>
#include <QJsonDocument>

#include <cstdint>
#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace edgesse::scenario;
    const QByteArray text(reinterpret_cast<const char *>(data), static_cast<qsizetype>(size));
    const LoadResult result = loadFromText(text, QStringLiteral("fuzz.yaml"));
    if (result.ok() != result.diagnostics.isEmpty())
        std::abort(); // a scenario exactly when there is no diagnostic
    for (const Diagnostic &d : result.diagnostics)
        if (d.message.isEmpty() || d.line < 1 || d.column < 1)
            std::abort(); // every problem located and explained
    if (result.ok()) {
        if (result.scenario->variants.isEmpty())
            std::abort();
        for (const Variant &v : result.scenario->variants) {
            // Derived figures and serialisation must hold for whatever loaded.
            (void)v.descriptorsNeeded();
            for (const ClientGroup &g : v.clients)
                (void)v.pathLatency(g);
            const LoadResult again = loadFromText(QJsonDocument(toJson(v)).toJson(), QStringLiteral("resolved.json"));
            if (!again.ok())
                std::abort(); // a resolved variant always loads back
        }
    }
    return 0;
}
