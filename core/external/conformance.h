#pragma once

#include "core/link/ssetap.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace edgesse::external {

// What the links in front of one external server saw of its responses during a run.
struct NodeObservations {
    std::map<int, std::uint64_t> statuses; // responses by status code
    QStringList contentTypes;   // distinct, of its 200 responses
    QStringList cacheControls;  // distinct, of its event streams ("" when it sent none)
    QStringList retryAfters;    // distinct, of its refusals ("" when it sent none)
    std::uint64_t eventStreams = 0;
    std::uint64_t events = 0;
    std::uint64_t comments = 0;
    std::uint64_t eventReads = 0;   // reads that completed at least one event
    std::uint64_t batchedReads = 0; // reads that completed two or more
    std::optional<std::chrono::milliseconds> retry;
    std::chrono::microseconds longestSilence{0}; // on an open stream, between its bytes
    // Per event: a PoP's time from reaching it to leaving it; an origin's from the POST
    // that published it to leaving it (with a publish hook). Bounded sample.
    std::vector<std::int64_t> holdUs;
};

// Collects NodeObservations from every tap in front of one server, from any thread.
class NodeObserver
{
public:
    void head(const link::SseTapSink::Head &head);
    void event(bool completedWithOthers);
    void comment();
    void retry(std::chrono::milliseconds value);
    void read(int events);
    void silence(std::chrono::microseconds gap);
    void hold(std::chrono::microseconds held);
    NodeObservations snapshot() const;

private:
    mutable std::mutex m_mutex;
    NodeObservations m_seen;
};

// A reconnect with Last-Event-ID, made directly to the server once the run is over.
struct ResumeProbe {
    bool attempted = false;
    QByteArray sentId;     // the Last-Event-ID sent
    QByteArray expectedId; // the event that followed it on the first link
    QByteArray firstId;    // the first event the server sent back (empty: none in time)
    int status = 0;
    std::chrono::milliseconds waited{0};
    QString error; // could not connect, and why
};

// Connects to 127.0.0.1:port, asks for `path` with Last-Event-ID `sentId` and waits (at
// most `wait`) for the first event. Blocking; for the run's conductor.
ResumeProbe probeResume(quint16 port, const QByteArray &path, const QByteArray &sentId, const QByteArray &expectedId,
                        std::chrono::milliseconds wait);

struct Finding {
    QString node;
    QString check; // content-type, cache-control, buffering, heartbeat, retry, last-event-id, cap; tls (not checked)
    bool ok = true;
    QString note;  // one sentence a user can act on
};

enum class ServerRole { Origin, Pop };

// Each check, a short sentence: what the server did and, when it is wrong, what it costs.
// `publishHook`: the origin's hold times run from EdgeSSE's POST.
QList<Finding> conformance(const QString &node, ServerRole role, const NodeObservations &seen, const ResumeProbe &resume,
                           bool publishHook);

} // namespace edgesse::external
