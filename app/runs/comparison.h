#pragma once

#include "core/metrics/runresult.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

// Runs side by side: the figures of any variants of any runs, each against a baseline
// (value, Δ and %), the scenario's question and a verdict computed from the figures. Shared
// by the app's Comparison tab, report.html and `edgesse compare`; no widgets here.
namespace edgesse::runs {

enum class Format { Milliseconds, Count, Bytes, Percent };

struct Figure
{
    QString header;       // "p50 ms"
    QString tooltip;
    bool lowerIsBetter = true;
    Format format = Format::Milliseconds;
    bool ranked = true;   // false: informational, never marked best (how many were expected)
};

// The totals' figures in table order, and one variant's values for them (NaN where nothing
// was measured: shown as "—", never marked best).
QList<Figure> totalFigures();
QList<double> totalValues(const metrics::VariantResult &variant);
// The same per client population (groups).
QList<Figure> groupFigures();
QList<double> groupValues(const metrics::GroupResult &group);
// What a variant's streams speak, "h1", "h2", "h3" or several ("h2 / h3"), polling as
// "poll"; empty for files from before groups carried their protocol.
QString protocolLabel(const metrics::VariantResult &variant);

QString formatValue(double value, Format format);
// "−12.0 ms (−25.3%)"-style difference of `value` against `base`; "=" when equal.
QString formatDelta(double value, double base, Format format);
// Values differ enough to call one better: at least 5% of the larger and above the
// figure's resolution (0.1 ms, one count, one byte). Equal or near-equal values are a tie.
bool differsMeaningfully(double a, double b, Format format);
// The index of the best value, or -1 when no value beats the others meaningfully.
int bestIndex(const QList<double> &values, const Figure &figure);

struct Entry
{
    QString label;    // the variant's name; with the run's time when several runs have it
    QString variant;  // the variant's name in the scenario
    QString run;      // the run it came from: its start time (or file)
    metrics::VariantResult result;
};

struct Comparison
{
    QString scenarioName;
    QString question;
    QStringList scenarioVariants; // every variant of the scenario, for colours
    QList<Entry> entries;
    int baseline = 0;

    bool isEmpty() const { return entries.isEmpty(); }
    int indexOf(const QString &nameOrLabel) const; // -1 when absent
    QStringList groupNames() const;                // union over entries, in first-seen order
    // One line per entry other than the baseline, e.g. "edge vs central: p50 −12 ms for
    // new-york, −1 ms for sydney; origin connections 3 vs 200". The figures are the ones the
    // question names (latency, first event, reconnects, loss, connections, bytes, requests,
    // cost); latency per audience, loss and origin connections when it names none.
    QStringList verdict() const;
    // The entries as one RunResult (variants named by label) for the charts and the files.
    metrics::RunResult asRunResult() const;
};

// Every variant of every run, in run order; a name found in more than one run is labelled
// with its run's start time. The baseline is the first entry.
Comparison compare(const QList<metrics::RunResult> &runs);

// Plain-text tables for `edgesse compare`: the question, the verdict, the totals and the
// per-audience figures, every value with its Δ and % against the baseline.
QString comparisonText(const Comparison &comparison);

// Variant results run apart (one `--variant` per job) as one result: variants in the
// scenario's order. Fails, naming the files, when they are of different scenarios or two
// hold the same variant.
std::optional<metrics::RunResult> merge(const QList<metrics::RunResult> &results, const QStringList &files,
                                        QString *error);

} // namespace edgesse::runs
