#include "core/scenario/scenario.h"

namespace edgesse::scenario {

LoadResult loadFromText(const QByteArray &, const QString &fileName)
{
    return {std::nullopt, {Diagnostic{fileName, 0, 0, QStringLiteral("the scenario loader is not built yet")}}};
}

LoadResult load(const QString &path)
{
    return loadFromText({}, path);
}

} // namespace edgesse::scenario
