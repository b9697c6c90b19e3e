#include "core/sim/run.h"

#include "core/net/fdlimit.h"
#include "core/sim/collector.h"
#include "core/sim/drainpolicy.h"
#include "core/sim/livetopology.h"
#include "core/sim/timescale.h"
#include "core/sim/topologyplan.h"

#include <QThread>

#include <algorithm>

namespace edgesse::sim {

using namespace std::chrono_literals;

namespace {

double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

int threadsFor(int requested)
{
    return requested > 0 ? requested : std::max(1, QThread::idealThreadCount());
}

// Nodes outside EdgeSSE's clock cannot run slower: such a variant runs at scale 1.
Run::Settings effective(Run::Settings settings, const scenario::Variant &variant)
{
    if (settings.timeScale < 1.0 || !variant.timeDilationRefusal().isEmpty())
        settings.timeScale = 1.0;
    return settings;
}

} // namespace

Run::Run(scenario::Variant variant, const Settings &settings, QObject *parent)
    : QObject(parent)
    , m_modelled(std::move(variant))
    , m_settings(effective(settings, m_modelled))
    , m_variant(dilated(m_modelled, m_settings.timeScale))
{
    m_live.variant = m_variant.name;
    m_result.name = m_variant.name;
}

Run::~Run()
{
    cancel();
    wait();
}

void Run::start()
{
    if (m_conductor.joinable())
        return;
    m_conductor = std::thread([this] { execute(); });
}

void Run::stop()
{
    m_stopRequested = true;
    std::lock_guard lock(m_waitMutex);
    m_wake.notify_all();
}

void Run::cancel()
{
    m_cancelRequested = true;
    std::lock_guard lock(m_waitMutex);
    m_wake.notify_all();
}

void Run::wait()
{
    if (m_conductor.joinable())
        m_conductor.join();
}

std::shared_ptr<const tls::TlsIdentity> Run::tls() const
{
    std::lock_guard lock(m_mutex);
    return m_tls;
}

QList<Endpoint> Run::endpoints() const
{
    std::lock_guard lock(m_mutex);
    return m_endpoints;
}

QString Run::linkNote() const
{
    std::lock_guard lock(m_mutex);
    return m_linkNote;
}

LiveSnapshot Run::snapshot() const
{
    std::lock_guard lock(m_mutex);
    return m_live;
}

Run::Timings Run::timings() const
{
    std::lock_guard lock(m_mutex);
    return m_timings;
}

metrics::VariantResult Run::result() const
{
    std::lock_guard lock(m_mutex);
    return m_result;
}

bool Run::waitFor(Clock::time_point until)
{
    std::unique_lock lock(m_waitMutex);
    m_wake.wait_until(lock, until, [this] { return m_cancelRequested.load() || m_stopRequested.load(); });
    return !m_cancelRequested && !m_stopRequested;
}

void Run::execute()
{
    const scenario::Variant &v = m_variant;
    // Made here rather than in the constructor: generating keys takes milliseconds, and the
    // constructor runs on the caller's thread (the GUI's, in the app).
    QString tlsError;
    auto identity = tls::TlsIdentity::make(m_settings.tlsCredentials.get(), &tlsError);
    if (!identity) {
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, tlsError));
        return;
    }
    {
        std::lock_guard lock(m_mutex);
        m_tls = identity;
    }
    // Descriptors: refuse to start what cannot fit, with the number needed.
    net::raiseFdLimitToHard();
    if (const QString problem = net::checkDescriptorBudget(v.descriptorsNeeded(m_settings.simulatedClients)); !problem.isEmpty()) {
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, problem));
        return;
    }
    const auto setUpStart = Clock::now();
    QString error;
    std::optional<TopologyPlan> plan = planTopology(v, threadsFor(m_settings.threads), m_settings.simulatedClients, &error);
    if (!plan) {
        emit failed(QStringLiteral("variant %1: %2").arg(v.name, error));
        return;
    }
    for (TopologyPlan::Link &l : plan->links) {
        if (l.clientSide())
            l.settings.lateBy = m_settings.lateAccessLinks;
    }
    auto live = std::make_unique<LiveTopology>(v, *plan, identity, m_settings.externalFolder);
    const Outcome outcome = conduct(*plan, *live, setUpStart, &error);
    tearDown(std::move(live));
    switch (outcome) {
    case Outcome::Finished: emit finished(); break;
    case Outcome::Failed: emit failed(QStringLiteral("variant %1: %2").arg(v.name, error)); break;
    case Outcome::Cancelled: emit cancelled(); break;
    }
}

// Up, warm-up and measured period, drain, result; the caller tears down.
Run::Outcome Run::conduct(const TopologyPlan &plan, LiveTopology &live, Clock::time_point setUpStart, QString *error)
{
    const scenario::Variant &v = m_variant;
    if (!live.bringUp(error, [this] { return m_cancelRequested.load(); }))
        return m_cancelRequested ? Outcome::Cancelled : Outcome::Failed;
    if (!waitForRelays(plan, live))
        return Outcome::Cancelled;
    {
        const QList<Endpoint> endpoints = live.endpoints();
        const QString note = live.linkNote();
        std::lock_guard lock(m_mutex);
        m_endpoints = endpoints;
        m_linkNote = note;
    }
    Collector collector(v, plan, live);
    // The publisher publishes from the start, so streams see events as soon as they
    // subscribe; only events after warm-up are measured.
    live.prepareClients();
    const auto start = Clock::now();
    {
        std::lock_guard lock(m_mutex);
        m_timings.setUp = std::chrono::duration_cast<std::chrono::microseconds>(start - setUpStart);
    }
    const auto measureStart = start + v.warmup;
    const auto measureEnd = measureStart + v.duration;
    const bool hasEnd = !m_settings.openEnded || v.duration > 0us;
    live.shared().setWindow(measureStart, hasEnd ? measureEnd : Clock::time_point::max());
    live.startPublisher();
    if (!live.openClients(error))
        return Outcome::Failed;
    emit ready();

    const Measured measured = measure(collector, start, measureStart, measureEnd);
    if (measured.cancelled)
        return Outcome::Cancelled;
    const auto end = measured.interrupted ? Clock::now() : measureEnd;
    if (!measured.reachedWindow) { // stopped during warm-up: what is left is measured, an empty window
        live.shared().setWindow(end, end);
        collector.startMeasuring();
    }
    live.shared().endWindow(end);
    collector.endMeasuring();
    live.stopPublisher();
    if (!drain(live))
        return Outcome::Cancelled;
    publishSample(collector, seconds(Clock::now() - measureStart));
    recordAllOpen(live, setUpStart);
    metrics::VariantResult result =
        collector.finalise(measured.reachedWindow ? measureStart : end, end, m_settings.keepStreamRows);
    inModelledTime(result);
    {
        std::lock_guard lock(m_mutex);
        m_result = std::move(result);
        if (!m_linkNote.isEmpty())
            m_result.warnings.append(m_linkNote);
    }
    addExternalFindings(live);
    return Outcome::Finished;
}

// PoPs subscribe to the origin before their audience arrives, as a PoP in service has:
// wait (bounded) until every relay has an upstream stream open.
bool Run::waitForRelays(const TopologyPlan &plan, LiveTopology &live)
{
    std::chrono::microseconds slowestUpstream{0};
    for (const auto &l : plan.links) {
        if (!l.clientSide())
            slowestUpstream = std::max(slowestUpstream, l.config->handshake() + l.config->latency);
    }
    const auto until = Clock::now() + std::max<Clock::duration>(2s, 10 * slowestUpstream);
    while (!m_cancelRequested && Clock::now() < until && live.relaysWithoutUpstream() > 0) {
        std::unique_lock lock(m_waitMutex);
        m_wake.wait_for(lock, 10ms, [this] { return m_cancelRequested.load(); });
    }
    return !m_cancelRequested;
}

// Warm-up, then the measured period, sampling every 100 ms.
Run::Measured Run::measure(Collector &collector, Clock::time_point start, Clock::time_point measureStart,
                           Clock::time_point measureEnd)
{
    const scenario::Variant &v = m_variant;
    const bool hasEnd = !m_settings.openEnded || v.duration > 0us;
    Measured m;
    auto nextSample = start + Collector::kSampleInterval;
    for (;;) {
        if (!m.reachedWindow && Clock::now() >= measureStart) {
            m.reachedWindow = true;
            collector.startMeasuring();
        }
        if (hasEnd && Clock::now() >= measureEnd)
            break;
        const auto windowEdge = m.reachedWindow ? (hasEnd ? measureEnd : Clock::time_point::max()) : measureStart;
        if (!waitFor(std::min(nextSample, windowEdge))) {
            m.interrupted = true;
            break;
        }
        if (Clock::now() < nextSample)
            continue;
        publishSample(collector, seconds(nextSample - measureStart));
        nextSample += Collector::kSampleInterval;
        const double total = seconds(v.warmup + v.duration);
        const double elapsed = seconds(Clock::now() - start);
        const double fraction = hasEnd && total > 0 ? std::clamp(elapsed / total, 0.0, 1.0) : 0.0;
        {
            std::lock_guard lock(m_mutex);
            m_live.fraction = fraction;
            m_live.elapsedSeconds = elapsed;
        }
        emit progressed(fraction);
    }
    m.cancelled = m_cancelRequested;
    return m;
}

// Stop publishing, then let the last events cross the slowest path (DrainPolicy).
bool Run::drain(LiveTopology &live)
{
    auto reconnecting = [&] {
        std::int64_t n = 0;
        for (const auto &r : live.recorders())
            n += r->live().streamsReconnecting.load(std::memory_order_relaxed);
        return n;
    };
    auto delivered = [&] {
        std::uint64_t n = 0;
        for (const auto &r : live.recorders())
            n += r->live().delivered.load(std::memory_order_relaxed);
        return n;
    };
    Drain drain(DrainPolicy::forVariant(m_variant), Clock::now(), delivered());
    for (;;) {
        {
            std::unique_lock lock(m_waitMutex);
            m_wake.wait_until(lock, drain.wakeAt(), [this] { return m_cancelRequested.load(); });
        }
        if (m_cancelRequested || !drain.next(Clock::now(), reconnecting(), delivered(), live.linkBytesHeld()))
            break;
    }
    return !m_cancelRequested;
}

void Run::publishSample(Collector &collector, double atSeconds)
{
    Collector::Sample sample = collector.sample(atSeconds);
    std::lock_guard lock(m_mutex);
    sample.live.fraction = m_live.fraction;
    sample.live.elapsedSeconds = m_live.elapsedSeconds;
    m_live = std::move(sample.live);
    m_result.timeSeries = collector.series();
    m_result.setLatency(sample.latency);
}

void Run::inModelledTime(metrics::VariantResult &result) const
{
    const double scale = m_settings.timeScale;
    toModelledTime(result, scale);
    // The trust check judges the modelled world's error.
    result.toleranceMs = m_settings.toleranceMs;
    result.checkTrust();
    if (scale > 1.0)
        result.resolved = scenario::toJson(m_modelled);
}

void Run::recordAllOpen(LiveTopology &live, Clock::time_point setUpStart)
{
    std::uint64_t everOpened = 0;
    Clock::rep last = 0;
    for (const auto &r : live.recorders()) {
        everOpened += r->live().streamsEverOpened.load(std::memory_order_relaxed);
        last = std::max(last, r->live().lastFirstOpen.load(std::memory_order_relaxed));
    }
    if (!m_settings.simulatedClients || everOpened != std::uint64_t(m_variant.totalStreams()) || everOpened == 0)
        return;
    std::lock_guard lock(m_mutex);
    m_timings.allOpen =
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::time_point(Clock::duration(last)) - setUpStart);
}

// The external servers' conformance (probed now, before they stop) and their problems.
void Run::addExternalFindings(LiveTopology &live)
{
    ExternalStack *external = live.external();
    if (!external)
        return;
    const QList<external::Finding> findings = external->check();
    const QStringList problems = external->problems();
    std::lock_guard lock(m_mutex);
    for (const external::Finding &f : findings)
        m_result.conformance.push_back({f.node, f.check, f.ok, f.note});
    for (const QString &problem : problems)
        m_result.warnings.append(problem);
}

void Run::tearDown(std::unique_ptr<LiveTopology> live)
{
    const auto tearDownStart = Clock::now();
    live.reset();
    std::lock_guard lock(m_mutex);
    m_timings.tearDown = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - tearDownStart);
}

} // namespace edgesse::sim
