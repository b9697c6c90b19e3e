// Scenario loader: YAML text → a tree that remembers where each value was written →
// variants merged and swept → resolved Variant structs, every problem reported once.
// The steps live in core/scenario/loader/; this file reads the whole document.

#include "core/scenario/loader/budget.h"
#include "core/scenario/loader/converter.h"
#include "core/scenario/loader/keys.h"
#include "core/scenario/loader/limits.h"
#include "core/scenario/loader/merge.h"
#include "core/scenario/loader/reader.h"
#include "core/scenario/loader/report.h"
#include "core/scenario/loader/resolver.h"
#include "core/scenario/loader/tree.h"
#include "core/scenario/scenario.h"

#include <QFile>
#include <QFileInfo>
#include <QHash>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <vector>

namespace edgesse::scenario {

using namespace loader;

namespace {

struct Candidate {
    QString name;
    QString baseName; // the variant's own name, or "default"; name adds the sweep's choices
    const Value *nameValue = nullptr; // for duplicate-name errors
    const Value *item = nullptr;      // the variants[i] entry, if any
    Value tree;
    QList<QPair<QString, QString>> sweepValues;
};

std::vector<SweepDimension> readSweep(Reader &read, const Value &sweep)
{
    std::vector<SweepDimension> dims;
    if (!read.expectMap(sweep, QStringLiteral("a sweep like { sse.heartbeat: [off, 5s, 15s] }")))
        return dims;
    for (const Entry &e : sweep.entries) {
        SweepDimension d;
        d.path = e.key;
        d.line = e.line;
        d.column = e.column;
        const auto segments = parseSweepPath(e.key);
        if (!segments) {
            read.report().add(e.line, e.column,
                              QStringLiteral("%1: \"%2\" is not a key path like sse.heartbeat or clients[berlin].count")
                                  .arg(sweep.path, e.key));
            continue;
        }
        if (!kVariantKeys.contains(segments->first().key)) {
            const QString best = suggestion(segments->first().key, kVariantKeys);
            read.report().add(e.line, e.column,
                              QStringLiteral("%1: cannot sweep \"%2\"; a sweep varies one of %3%4")
                                  .arg(sweep.path, e.key, kVariantKeys.join(QStringLiteral(", ")),
                                       best.isEmpty() ? QString() : QStringLiteral(" (did you mean \"%1\"?)").arg(best)));
            continue;
        }
        if (!e.value.isSequence() || e.value.items.empty()) {
            read.report().at(e.value, QStringLiteral("expected a non-empty list of values to sweep, got %1").arg(e.value.describe()));
            continue;
        }
        d.label = segments->back().key;
        d.values = e.value.items;
        dims.push_back(std::move(d));
    }
    // Short labels must not collide; fall back to the full path where they do.
    for (SweepDimension &d : dims) {
        const auto same = std::count_if(dims.begin(), dims.end(), [&](const SweepDimension &o) { return o.label == d.label; });
        if (same > 1)
            d.label = d.path;
    }
    for (SweepDimension &d : dims)
        if (std::count_if(dims.begin(), dims.end(), [&](const SweepDimension &o) { return o.label == d.label; }) > 1)
            d.label = d.path;
    return dims;
}

QString valueText(const Value &v, size_t index)
{
    if (v.isScalar())
        return v.scalar;
    if (v.isNull())
        return QStringLiteral("none");
    return u'#' + QString::number(index + 1);
}

qint64 countValues(const Value &v)
{
    qint64 n = 1;
    for (const Value &item : v.items)
        n += countValues(item);
    for (const Entry &e : v.entries)
        n += countValues(e.value);
    return n;
}

// The variants so far, and the values of their trees together.
struct Expansion {
    QList<Candidate> candidates;
    qint64 values = 0;
};

// Whether `count` more variants of `base` stay within kMaxVariants and kMaxExpandedValues;
// reports where they would not.
bool fits(Report &report, Expansion &out, const Candidate &base, qint64 count, int line, int column)
{
    if (count + out.candidates.size() > kMaxVariants) {
        report.add(line, column, QStringLiteral("the variants expand to more than %1 variants; sweep fewer values or split the scenario")
                                     .arg(kMaxVariants));
        return false;
    }
    const qint64 values = count * countValues(base.tree);
    if (out.values + values > kMaxExpandedValues) {
        report.add(line, column, QStringLiteral("the variants expand to more than %1 values together; make fewer variants or a smaller scenario")
                                     .arg(kMaxExpandedValues));
        return false;
    }
    out.values += values;
    return true;
}

// Expands `base` over the sweep dimensions: the cartesian product, first dimension slowest.
bool expandSweep(Report &report, const Candidate &base, const std::vector<SweepDimension> &dims, Expansion &out)
{
    if (dims.empty()) {
        const int line = base.item ? base.item->line : 1;
        const int column = base.item ? base.item->column : 1;
        if (!fits(report, out, base, 1, line, column))
            return false;
        out.candidates << base;
        return true;
    }
    qint64 combinations = 1;
    for (const SweepDimension &d : dims) {
        combinations *= qint64(d.values.size());
        if (combinations > kMaxVariants)
            break;
    }
    if (!fits(report, out, base, combinations, dims.front().line, dims.front().column))
        return false;
    std::vector<size_t> index(dims.size(), 0);
    for (qint64 c = 0; c < combinations; ++c) {
        Candidate cand = base;
        QStringList parts;
        bool ok = true;
        for (size_t i = 0; i < dims.size(); ++i) {
            const SweepDimension &d = dims[i];
            const Value &value = d.values[index[i]];
            const QString error = setAtPath(cand.tree, *parseSweepPath(d.path), value, d);
            if (!error.isEmpty()) {
                report.add(d.line, d.column, QStringLiteral("sweep \"%1\": %2").arg(d.path, error));
                ok = false;
            }
            const QString text = valueText(value, index[i]);
            parts << d.label + u'=' + text;
            cand.sweepValues << qMakePair(d.path, text);
        }
        if (!ok)
            return false;
        const QString generated = parts.join(u',');
        cand.name = base.name.isEmpty() ? generated : base.name + u':' + generated;
        out.candidates << cand;
        for (size_t i = dims.size(); i-- > 0;) {
            if (++index[i] < dims[i].values.size())
                break;
            index[i] = 0;
        }
    }
    return true;
}

QList<Candidate> candidates(Reader &read, const Value &root)
{
    Report &report = read.report();
    Value base = root;
    base.entries.erase(std::remove_if(base.entries.begin(), base.entries.end(),
                                      [](const Entry &e) { return !kVariantKeys.contains(e.key); }),
                       base.entries.end());
    std::vector<SweepDimension> topSweep;
    if (const Value *s = root.find(u"sweep"))
        topSweep = readSweep(read, *s);

    Expansion result;
    const Value *variants = root.find(u"variants");
    if (!variants) {
        Candidate c;
        c.name = topSweep.empty() ? QStringLiteral("default") : QString();
        c.baseName = QStringLiteral("default");
        c.tree = base;
        expandSweep(report, c, topSweep, result);
        return result.candidates;
    }
    if (!read.expectSequence(*variants, QStringLiteral("variants like [{ name: edge, placement: edge }]")))
        return {};
    if (variants->items.empty()) {
        report.at(*variants, QStringLiteral("the list is empty; add a variant like { name: edge, placement: edge } or remove the key"));
        return {};
    }
    if (variants->items.size() > size_t(kMaxVariants)) {
        report.at(*variants, QStringLiteral("%1 variants; a scenario has at most %2 (as a sweep does): split it into files")
                                 .arg(variants->items.size())
                                 .arg(kMaxVariants));
        return {};
    }
    for (const Value &item : variants->items) {
        if (!read.expectMap(item, QStringLiteral("a variant like { name: edge, placement: edge }")))
            continue;
        read.checkKeys(item, kVariantItemKeys, QStringLiteral("in a variant"));
        Candidate c;
        c.item = &item;
        if (const Value *n = read.require(item, QStringLiteral("name"), QStringLiteral("how results and charts call this variant"))) {
            c.nameValue = n;
            if (auto s = read.scalar(*n, QStringLiteral("a variant name"))) {
                if (s->trimmed().isEmpty())
                    report.at(*n, QStringLiteral("a variant name must not be empty"));
                c.name = *s;
                c.baseName = *s;
            }
        }
        Value overlay = item;
        overlay.entries.erase(std::remove_if(overlay.entries.begin(), overlay.entries.end(),
                                             [](const Entry &e) { return !kVariantKeys.contains(e.key); }),
                              overlay.entries.end());
        c.tree = base;
        deepMerge(c.tree, overlay);
        std::vector<SweepDimension> dims = topSweep;
        if (const Value *s = item.find(u"sweep")) {
            std::vector<SweepDimension> own = readSweep(read, *s);
            dims.insert(dims.end(), own.begin(), own.end());
        }
        if (!expandSweep(report, c, dims, result) && result.candidates.size() >= kMaxVariants)
            break;
    }
    return result.candidates;
}

// Where the byte at `offset` was written: its line and column, 1-based.
QPair<int, int> place(const QByteArray &text, qsizetype offset)
{
    const QByteArrayView before = QByteArrayView(text).first(offset);
    const qsizetype lineStart = before.lastIndexOf('\n') + 1;
    return {int(before.count('\n')) + 1, int(offset - lineStart) + 1};
}

LoadResult loadDocument(const QByteArray &text, const QString &fileName)
{
    Report report(fileName);
    if (text.size() > kMaxFileBytes) {
        const auto [line, column] = place(text, kMaxFileBytes);
        report.add(line, column, QStringLiteral("the file is larger than %1MB here; a scenario is a short text file").arg(kMaxFileBytes / (1024 * 1024)));
        return {std::nullopt, report.take()};
    }
    const std::string source = text.toStdString();
    if (!withinBudget(source, report))
        return {std::nullopt, report.take()};
    YAML::Node document;
    try {
        document = YAML::Load(source);
    } catch (const YAML::Exception &e) {
        report.add(e.mark.line >= 0 ? e.mark.line + 1 : 1, e.mark.column >= 0 ? e.mark.column + 1 : 1,
                   QStringLiteral("YAML syntax: %1").arg(QString::fromStdString(e.msg)));
        return {std::nullopt, report.take()};
    }

    const Value root = convertDocument(document, report);
    Reader read(report);
    if (root.isNull()) {
        report.add(1, 1, QStringLiteral("the file is empty; a scenario needs name, nodes, clients, links and publisher"));
        return {std::nullopt, report.take()};
    }
    if (!root.isMap()) {
        report.at(root, QStringLiteral("expected a scenario (a mapping with name, nodes, clients, links, publisher), got %1")
                            .arg(root.describe()));
        return {std::nullopt, report.take()};
    }
    read.checkKeys(root, kTopLevelKeys);

    Scenario scenario;
    scenario.file = fileName;
    if (const Value *n = read.require(root, QStringLiteral("name"), QStringLiteral("a title for the scenario")))
        if (auto s = read.scalar(*n, QStringLiteral("a scenario name")))
            scenario.name = *s;
    if (const Value *d = root.find(u"description"))
        if (auto s = read.scalar(*d, QStringLiteral("a description")))
            scenario.description = *s;
    if (const Value *q = root.find(u"question"))
        if (auto s = read.scalar(*q, QStringLiteral("the question the scenario answers")))
            scenario.question = *s;
    if (const Value *s = root.find(u"seed"))
        if (auto n = read.integer(*s, 0, kMaxSeed, QStringLiteral("seed")))
            scenario.seed = quint64(*n);

    const QList<Candidate> list = candidates(read, root);
    QHash<QString, const Candidate *> seen;
    for (const Candidate &c : list) {
        std::optional<Variant> v = resolveVariant(read, c.tree, c.name, c.baseName, c.item);
        if (!c.name.isEmpty() && seen.contains(c.name)) {
            const Value *where = c.nameValue ? c.nameValue : (c.item ? c.item : &root);
            report.at(*where, QStringLiteral("duplicate variant name \"%1\"").arg(c.name));
        }
        seen.insert(c.name, &c);
        if (v) {
            v->sweepValues = c.sweepValues;
            scenario.variants << *v;
        }
    }
    if (report.count() > 0)
        return {std::nullopt, report.take()};
    return {scenario, {}};
}

} // namespace

LoadResult loadFromText(const QByteArray &text, const QString &fileName)
{
    try {
        return loadDocument(text, fileName);
    } catch (const std::exception &e) {
        // yaml-cpp may throw while walking an odd document; report it rather than crash.
        return {std::nullopt, {Diagnostic{fileName, 1, 1, QStringLiteral("cannot read the document: %1").arg(QString::fromLocal8Bit(e.what()))}}};
    }
}

LoadResult load(const QString &path)
{
    QFile file(path);
    if (!QFileInfo(path).isFile()) {
        return {std::nullopt,
                {Diagnostic{path, 0, 0, QFileInfo::exists(path) ? QStringLiteral("not a regular file") : QStringLiteral("no such file")}}};
    }
    if (!file.open(QIODevice::ReadOnly))
        return {std::nullopt, {Diagnostic{path, 0, 0, QStringLiteral("cannot read the file: %1").arg(file.errorString())}}};
    // Past the limit only its place is reported: the rest is never read.
    return loadFromText(file.read(kMaxFileBytes + 1), path);
}

} // namespace edgesse::scenario

