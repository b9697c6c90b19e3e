#include "app/runs/comparison.h"

#include <algorithm>

namespace edgesse::runs {

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

// Variants in the scenario's order; those it does not list after them, in file order.
void sortByScenario(metrics::RunResult &merged)
{
    const QStringList &order = merged.scenarioVariants;
    std::stable_sort(merged.variants.begin(), merged.variants.end(),
                     [&order](const metrics::VariantResult &a, const metrics::VariantResult &b) {
                         const auto rank = [&order](const QString &name) {
                             const qsizetype i = order.indexOf(name);
                             return i < 0 ? order.size() : i;
                         };
                         return rank(a.name) < rank(b.name);
                     });
}

bool addInto(metrics::RunResult &merged, QStringList &from, const QString &firstFile, const metrics::RunResult &r,
             const QString &file, QString *error)
{
    if (r.scenarioName != merged.scenarioName)
        return fail(error, QStringLiteral("%1 is of the scenario \"%2\" and %3 of \"%4\": merge combines variants of one "
                                          "scenario; compare different scenarios with `edgesse compare`")
                               .arg(firstFile, merged.scenarioName, file, r.scenarioName));
    for (const metrics::VariantResult &v : r.variants) {
        for (std::size_t i = 0; i < merged.variants.size(); ++i) {
            if (merged.variants[i].name == v.name)
                return fail(error, QStringLiteral("the variant \"%1\" is in both %2 and %3: keep one of them (each job "
                                                  "should run its own --variant)")
                                       .arg(v.name, from.at(qsizetype(i)), file));
        }
        merged.variants.push_back(v);
        from << file;
    }
    for (const QString &name : r.scenarioVariants)
        if (!merged.scenarioVariants.contains(name))
            merged.scenarioVariants << name;
    if (merged.scenarioText.isEmpty())
        merged.scenarioText = r.scenarioText;
    if (merged.scenarioQuestion.isEmpty())
        merged.scenarioQuestion = r.scenarioQuestion;
    if (!r.startedAt.isEmpty() && (merged.startedAt.isEmpty() || r.startedAt < merged.startedAt))
        merged.startedAt = r.startedAt;
    return true;
}

} // namespace

std::optional<metrics::RunResult> merge(const QList<metrics::RunResult> &results, const QStringList &files, QString *error)
{
    if (results.isEmpty()) {
        fail(error, QStringLiteral("nothing to merge: name at least one results.json"));
        return std::nullopt;
    }
    metrics::RunResult merged = results.first();
    merged.variants.clear();
    QStringList from; // the file each merged variant came from
    for (qsizetype i = 0; i < results.size(); ++i) {
        if (!addInto(merged, from, files.value(0), results.at(i), files.value(i), error))
            return std::nullopt;
    }
    sortByScenario(merged);
    return merged;
}

} // namespace edgesse::runs
