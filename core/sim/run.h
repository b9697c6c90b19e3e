#pragma once

#include "core/metrics/runresult.h"
#include "core/scenario/scenario.h"
#include "core/sim/endpoint.h"
#include "core/sim/livesnapshot.h"
#include "core/tls/tlsidentity.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace edgesse::sim {

class Collector;
class LiveTopology;
struct TopologyPlan;

// One resolved variant brought up for real and measured: the origin server, PoP relays
// (edge placement), one LinkProxy per directed link in use, the client populations spread
// over data-plane threads, the publisher; warm-up, the measured duration, a drain, and an
// orderly stop (every socket closed, every thread joined).
//
// A Run owns a conductor thread that plans the topology (TopologyPlan), brings it up
// (LiveTopology), samples it every 100 ms (Collector), drains it (Drain) and tears it down
// by destroying it, so the thread that drives it (GUI or CLI) is never blocked. Signals are
// emitted from the conductor thread (queued to receivers elsewhere).
class Run final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(Run)

public:
    struct Settings {
        // Keep publishing until stop() (serve): duration only ends it when set explicitly.
        bool openEnded = false;
        int threads = 0; // 0 = one per core
        bool keepStreamRows = true; // per-stream rows for streams.csv
        // Simulated browsers for the client populations. Off for serve: the user's own
        // clients (curl, a browser) connect to the populations' link URLs instead.
        bool simulatedClients = true;
        // Where the variant's external servers get their folders ({dir}, output); empty = a
        // new folder under the temporary directory.
        QString externalFolder;
        // The certificate nodes serve (--tls-cert/--tls-key); a throw-away local CA when null.
        std::shared_ptr<const tls::Credentials> tlsCredentials;
        // Time dilation (sim::dilated): the variant runs this many times slower and its result
        // is reported in modelled time. Forced to 1 for a variant with external nodes.
        double timeScale = 1;
        // The error p99 (modelled ms) a group may have and still be trusted (--tolerance).
        double toleranceMs = metrics::VariantResult::kDefaultToleranceMs;
        // Every access link writes its bytes this much (wall time) after their release: the
        // machine made late on purpose, so a test can see the error it reports.
        std::chrono::microseconds lateAccessLinks{0};
    };

    Run(scenario::Variant variant, const Settings &settings, QObject *parent = nullptr);
    ~Run() override; // cancels and joins

    void start();
    // Ends the run early; an open-ended run then finishes normally (with its result).
    void stop();
    // Ends the run at once without a result; cancelled() follows the tear-down.
    void cancel();
    // Blocks until the conductor is done (after finished/failed/cancelled).
    void wait();

    const scenario::Variant &variant() const { return m_modelled; } // as the scenario says
    double timeScale() const { return m_settings.timeScale; }
    // What the nodes serve TLS with and clients trust: made on the run's own thread, valid
    // from ready() on (null before, and when it could not be made: failed() says why).
    std::shared_ptr<const tls::TlsIdentity> tls() const;
    // How long bringing the topology up (until every stream was asked to open) and tearing
    // it down took; valid after finished().
    struct Timings {
        std::chrono::microseconds setUp{0};
        // From the start until every simulated stream had opened (response head received);
        // negative when some never did.
        std::chrono::microseconds allOpen{-1};
        std::chrono::microseconds tearDown{0};
    };
    Timings timings() const;
    // Valid after ready().
    QList<Endpoint> endpoints() const;
    // Valid after ready(): what the links could not make real here, once (empty when nothing),
    // e.g. connect() returning at once when not root. Also among the result's warnings.
    QString linkNote() const;
    LiveSnapshot snapshot() const;
    // The partial result while running (figures so far, time series), the final one after finished().
    metrics::VariantResult result() const;

signals:
    void ready();                     // topology up, endpoints known
    void progressed(double fraction); // of warm-up + duration
    void finished();
    void failed(const QString &reason);
    void cancelled();

private:
    enum class Outcome { Finished, Failed, Cancelled };
    using Clock = std::chrono::steady_clock;
    // What the measured period ended as.
    struct Measured {
        bool cancelled = false;
        bool reachedWindow = false; // warm-up was over
        bool interrupted = false;   // stop() before the end
    };

    void execute();
    Outcome conduct(const TopologyPlan &plan, LiveTopology &live, Clock::time_point setUpStart, QString *error);
    bool waitForRelays(const TopologyPlan &plan, LiveTopology &live); // false when cancelled
    Measured measure(Collector &collector, Clock::time_point start, Clock::time_point measureStart,
                     Clock::time_point measureEnd);
    bool drain(LiveTopology &live); // false when cancelled
    void publishSample(Collector &collector, double atSeconds);
    void recordAllOpen(LiveTopology &live, Clock::time_point setUpStart);
    void inModelledTime(metrics::VariantResult &result) const;
    void tearDown(std::unique_ptr<LiveTopology> live);
    void addExternalFindings(LiveTopology &live);
    bool waitFor(Clock::time_point until); // false when cancelled/stopped

    scenario::Variant m_modelled;
    Settings m_settings;
    scenario::Variant m_variant; // m_modelled dilated by the time scale: what runs

    std::thread m_conductor;
    std::mutex m_waitMutex;
    std::condition_variable m_wake;
    std::atomic<bool> m_cancelRequested{false};
    std::atomic<bool> m_stopRequested{false};

    mutable std::mutex m_mutex; // guards the figures below
    std::shared_ptr<const tls::TlsIdentity> m_tls;
    QList<Endpoint> m_endpoints;
    QString m_linkNote;
    LiveSnapshot m_live;
    metrics::VariantResult m_result;
    Timings m_timings;
};

} // namespace edgesse::sim
