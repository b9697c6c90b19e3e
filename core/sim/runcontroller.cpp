#include "core/sim/runcontroller.h"

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"
#include "core/sim/run.h"
#include "core/sim/timescalesearch.h"
#include "core/version.h"

#include <QDateTime>
#include <QDir>

#include <cmath>
#include <optional>
#include <utility>

namespace edgesse::sim {

using namespace std::chrono_literals;

struct RunController::State {
    mutable std::mutex mutex; // guards `result` and `run` for the thread-safe getters
    metrics::RunResult result;
    std::unique_ptr<Run> run;

    std::vector<scenario::Variant> variants;
    std::size_t current = 0;
    bool running = false;
    bool cancelling = false;
    std::chrono::steady_clock::time_point variantStartedAt;
    std::chrono::steady_clock::time_point startedAt;
    // --time-scale auto, for the current variant: the search under way, and once chosen
    // the scale and why.
    std::optional<TimeScaleSearch> search;
    double scale = 1;
    QString scaleNote;
};

namespace {

std::chrono::duration<double> plannedLength(const scenario::Variant &v)
{
    return std::chrono::duration<double>(v.warmup + v.duration);
}

// The largest error p99 of any group that measured one, and how many errors were measured.
std::pair<double, std::uint64_t> worstError(const metrics::VariantResult &r)
{
    double worst = 0;
    std::uint64_t samples = 0;
    for (const metrics::GroupResult &g : r.groups) {
        if (g.error.percentiles.count == 0)
            continue;
        samples += g.error.percentiles.count;
        worst = std::max(worst, g.error.percentiles.p99);
    }
    return {worst, samples};
}

} // namespace

RunController::RunController(QObject *parent)
    : QObject(parent)
    , m_state(std::make_unique<State>())
{
}

RunController::~RunController()
{
    std::unique_ptr<Run> run = takeRun();
    if (run) {
        run->disconnect(this);
        run->cancel();
        run->wait();
    }
}

void RunController::start(const scenario::Scenario &scenario, const QStringList &variantNames, const RunOptions &options)
{
    if (m_state->running) {
        qWarning("RunController::start: a run is in progress; cancel it first");
        return;
    }
    std::vector<scenario::Variant> variants;
    QStringList unknown;
    if (variantNames.isEmpty()) {
        variants.assign(scenario.variants.begin(), scenario.variants.end());
    } else {
        for (const QString &name : variantNames) {
            if (const scenario::Variant *v = scenario.variant(name))
                variants.push_back(*v);
            else
                unknown.push_back(name);
        }
    }
    m_state->running = true;
    m_state->cancelling = false;
    if (!unknown.isEmpty() || variants.empty()) {
        QStringList known;
        for (const auto &v : scenario.variants)
            known.push_back(v.name);
        const QString reason = unknown.isEmpty()
            ? QStringLiteral("the scenario has no variant to run")
            : QStringLiteral("no variant named %1 in %2 (it has: %3)")
                  .arg(unknown.join(QStringLiteral(", ")), scenario.name, known.join(QStringLiteral(", ")));
        QMetaObject::invokeMethod(this, [this, reason] { onVariantFailed(reason); }, Qt::QueuedConnection);
        return;
    }
    for (auto &v : variants) {
        if (options.duration)
            v.duration = *options.duration;
        if (options.warmup)
            v.warmup = *options.warmup;
        if (options.seed)
            v.seed = *options.seed;
    }
    m_state->variants = std::move(variants);
    m_state->current = 0;
    m_state->startedAt = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(m_state->mutex);
        m_state->result = {};
        m_state->result.toolVersion = versionString();
        m_state->result.scenarioFile = scenario.file;
        m_state->result.scenarioName = scenario.name;
        m_state->result.seed = options.seed.value_or(scenario.seed);
        m_state->result.startedAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    }
    m_threads = options.threads;
    m_timeScale = options.timeScale;
    m_autoTimeScale = options.autoTimeScale;
    m_toleranceMs = options.toleranceMs;
    m_state->search.reset();
    m_outputDirectory = options.outputDirectory;
    QMetaObject::invokeMethod(this, [this] { startNextVariant(); }, Qt::QueuedConnection);
}

void RunController::startNextVariant()
{
    if (!m_state->running)
        return;
    if (m_state->cancelling) {
        endRun();
        emit cancelled();
        return;
    }
    const scenario::Variant &variant = m_state->variants[m_state->current];
    const QString refusal = variant.timeDilationRefusal();
    if (m_autoTimeScale && refusal.isEmpty() && !m_state->search) {
        m_state->search.emplace(m_toleranceMs);
        emit calibrating(variant.name);
    }
    if (m_state->search && !m_state->search->decided()) {
        startRun(calibrationVariant(variant, m_state->search->next()), m_state->search->next(), true);
        return;
    }
    m_state->scale = m_state->search ? m_state->search->chosen() : m_timeScale;
    m_state->scaleNote = m_state->search ? m_state->search->reason() : QString();
    if (m_autoTimeScale && !refusal.isEmpty()) {
        m_state->scale = 1;
        m_state->scaleNote = QStringLiteral("runs at scale 1: %1").arg(refusal);
        emit timeScaleChosen(variant.name, 1, m_state->scaleNote, plannedLength(variant).count());
    }
    startRun(variant, m_state->scale, false);
}

void RunController::startRun(scenario::Variant variant, double scale, bool calibration)
{
    Run::Settings settings;
    settings.threads = m_threads;
    settings.timeScale = scale;
    settings.toleranceMs = m_toleranceMs;
    settings.keepStreamRows = !calibration;
    if (!m_outputDirectory.isEmpty())
        settings.externalFolder = QDir(m_outputDirectory).filePath(QStringLiteral("servers/") + variant.name);
    const QString name = variant.name;
    auto run = std::make_unique<Run>(std::move(variant), settings);
    if (!calibration)
        connect(run.get(), &Run::progressed, this, &RunController::onProgress, Qt::QueuedConnection);
    connect(run.get(), &Run::finished, this, calibration ? &RunController::onCalibrated : &RunController::onVariantDone,
            Qt::QueuedConnection);
    connect(run.get(), &Run::failed, this, &RunController::onVariantFailed, Qt::QueuedConnection);
    connect(run.get(), &Run::cancelled, this, &RunController::onVariantCancelled, Qt::QueuedConnection);
    Run *started = run.get();
    {
        std::lock_guard lock(m_state->mutex);
        m_state->run = std::move(run);
    }
    if (!calibration) {
        m_state->variantStartedAt = std::chrono::steady_clock::now();
        emit variantStarted(name, int(m_state->current), int(m_state->variants.size()));
        onProgress(0);
    }
    started->start();
}

void RunController::onCalibrated()
{
    std::unique_ptr<Run> run = takeRun();
    if (!run)
        return;
    run->wait();
    const auto [error, samples] = worstError(run->result());
    const double scale = run->timeScale();
    run.reset();
    if (m_state->cancelling) {
        endRun();
        emit cancelled();
        return;
    }
    m_state->search->measured(scale, samples, error);
    if (m_state->search->decided()) {
        const scenario::Variant &variant = m_state->variants[m_state->current];
        emit timeScaleChosen(variant.name, m_state->search->chosen(), m_state->search->reason(),
                             m_state->search->chosen() * plannedLength(variant).count());
    }
    startNextVariant();
}

double RunController::expectedScale(std::size_t variant) const
{
    if (variant == m_state->current)
        return m_state->scale;
    if (!m_autoTimeScale)
        return m_timeScale;
    // A variant not yet calibrated is expected to need the scale the last one chose.
    return m_state->variants[variant].timeDilationRefusal().isEmpty() ? m_state->scale : 1.0;
}

void RunController::onProgress(double fraction)
{
    if (!m_state->running || m_state->current >= m_state->variants.size())
        return;
    std::chrono::duration<double> done{0}, total{0};
    for (std::size_t i = 0; i < m_state->variants.size(); ++i) {
        const auto length = plannedLength(m_state->variants[i]) * expectedScale(i);
        total += length;
        if (i < m_state->current)
            done += length;
        else if (i == m_state->current)
            done += length * fraction;
    }
    const double overall = total.count() > 0 ? std::clamp(done.count() / total.count(), 0.0, 1.0) : 0.0;
    const auto eta = std::chrono::seconds(std::llround(std::max(0.0, (total - done).count())));
    emit progressChanged(overall, m_state->variants[m_state->current].name, eta);
}

void RunController::onVariantDone()
{
    std::unique_ptr<Run> run = takeRun();
    if (!run)
        return;
    run->wait();
    metrics::VariantResult result = run->result();
    result.timeScaleNote = m_state->scaleNote;
    m_state->search.reset();
    m_state->scaleNote.clear();
    {
        std::lock_guard lock(m_state->mutex);
        m_state->result.variants.push_back(result);
    }
    run.reset();
    emit variantFinished(result);
    if (m_state->cancelling) {
        endRun();
        emit cancelled();
        return;
    }
    if (++m_state->current < m_state->variants.size()) {
        startNextVariant();
        return;
    }
    metrics::RunResult finalResult;
    {
        std::lock_guard lock(m_state->mutex);
        finalResult = m_state->result;
    }
    endRun();
    emit finished(finalResult);
}

void RunController::onVariantFailed(const QString &reason)
{
    if (const std::unique_ptr<Run> run = takeRun())
        run->wait();
    const bool wasCancelling = m_state->cancelling;
    endRun();
    if (wasCancelling)
        emit cancelled();
    else
        emit failed(reason);
}

void RunController::onVariantCancelled()
{
    if (const std::unique_ptr<Run> run = takeRun())
        run->wait();
    endRun();
    emit cancelled();
}

std::unique_ptr<Run> RunController::takeRun()
{
    std::lock_guard lock(m_state->mutex);
    return std::move(m_state->run);
}

void RunController::endRun()
{
    m_state->running = false;
    m_state->cancelling = false;
    m_state->variants.clear();
    m_state->current = 0;
    m_state->search.reset();
}

void RunController::cancel()
{
    if (!m_state->running || m_state->cancelling)
        return;
    m_state->cancelling = true;
    // Without a run under way, the queued start of the first variant (or the queued
    // failure) sees the flag and ends with cancelled().
    std::lock_guard lock(m_state->mutex);
    if (m_state->run)
        m_state->run->cancel();
}

bool RunController::isRunning() const
{
    return m_state->running;
}

LiveSnapshot RunController::snapshot() const
{
    std::lock_guard lock(m_state->mutex);
    return m_state->run ? m_state->run->snapshot() : LiveSnapshot{};
}

metrics::RunResult RunController::liveResult() const
{
    std::lock_guard lock(m_state->mutex);
    metrics::RunResult result = m_state->result;
    if (m_state->run)
        result.variants.push_back(m_state->run->result());
    return result;
}

} // namespace edgesse::sim
