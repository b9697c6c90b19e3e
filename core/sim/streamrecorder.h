#pragma once

#include "core/link/releaselog.h"
#include "core/metrics/latencyhistogram.h"
#include "core/metrics/runresult.h"
#include "core/metrics/streamtracker.h"
#include "core/sim/publishlog.h"
#include "core/sim/stallmeter.h"
#include "core/sse/streamobserver.h"

#include <QString>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <unordered_map>
#include <vector>

namespace edgesse::external {
class EventIdentity;
}
namespace edgesse::link {
class LinkProxy;
}

namespace edgesse::sim {

class HopLedger;

// Figures of one client population, recorded by every data-plane thread without locks.
struct GroupMetrics {
    GroupMetrics(QString groupName, std::chrono::microseconds path, bool isPush, std::size_t shards)
        : name(std::move(groupName)), pathLatency(path), push(isPush), latency(shards), overhead(shards),
          timeToFirstEvent(shards), error(shards)
    {
    }
    QString name;
    std::chrono::microseconds pathLatency; // configured one-way latency publisher → group
    bool push;                             // SSE (overhead is measured) rather than polling
    metrics::ShardedLatency latency;
    metrics::ShardedLatency overhead;
    metrics::ShardedLatency timeToFirstEvent;
    // The exact error (measured - what the model drew on every hop), from the access link's
    // release log and, behind a PoP, its upstream hop's ledger; set before clients open.
    metrics::ShardedLatency error;
    std::atomic<std::uint64_t> errorUnmatched{0};
    const link::LinkProxy *access = nullptr;
    const HopLedger *upstream = nullptr;
    bool behindPop = false; // the upstream hop counts too (null upstream: not known)
};

// What every stream of a run shares: the publish log, the measured window (in time, and
// the first measured sequence number: events before it were published during warm-up) and
// the per-group figures.
struct RunShared {
    using Clock = sse::Clock;
    explicit RunShared(std::size_t shardCount) : allLatency(shardCount) {}

    // [from, until) of the measured window; nothing is counted before it is set.
    void setWindow(Clock::time_point from, Clock::time_point until);
    void endWindow(Clock::time_point until);
    bool inWindow(Clock::time_point t) const;
    Clock::time_point windowEnd() const;
    // Seconds of [from, to] inside the window.
    double secondsInWindow(Clock::time_point from, Clock::time_point to) const;

    PublishLog log;
    std::atomic<std::uint64_t> measureFromSeq{std::numeric_limits<std::uint64_t>::max()};
    std::atomic<Clock::rep> windowFrom{std::numeric_limits<Clock::rep>::max()};
    std::atomic<Clock::rep> windowUntil{std::numeric_limits<Clock::rep>::max()};
    std::vector<std::unique_ptr<GroupMetrics>> groups;
    metrics::ShardedLatency allLatency; // every group, for the time series
    // Set when the origin is the user's own server: events are named by their keys (the
    // first link stamped them), not by the decimal id EdgeSSE's publisher writes.
    const external::EventIdentity *identity = nullptr;
};

// The StreamObserver of one data-plane thread: owns the per-stream state of every stream
// created on that thread (tags are indexes), records into the thread's shard of the shared
// histograms, and keeps a few atomic totals the run samples for its time series.
class StreamRecorder final : public sse::StreamObserver
{
public:
    StreamRecorder(RunShared &shared, std::size_t shard);

    // Registers a stream and returns its tag. Call on the recorder's thread.
    std::uint64_t addStream(int group, int client, int stream, QString node);

    void streamStarved(std::uint64_t stream, sse::Clock::time_point since) override;
    void streamConnected(std::uint64_t stream, const sse::ConnectInfo &info) override;
    void streamOpened(std::uint64_t stream, std::chrono::microseconds timeToFirstByte) override;
    void firstEventReceived(std::uint64_t stream, std::chrono::microseconds timeToFirstEvent) override;
    void eventReceived(std::uint64_t stream, const sse::ReceivedEvent &event) override;
    void commentReceived(std::uint64_t stream, std::size_t bytes) override;
    void bytesReceived(std::uint64_t stream, std::size_t bytes) override;
    void streamDisconnected(std::uint64_t stream, const sse::Disconnect &disconnect) override;
    void pollCompleted(std::uint64_t stream, std::chrono::microseconds duration, std::size_t events) override;
    // The stream's first reconnect as its client timed it (a real browser's page), in place of
    // the recorder's own timing of the calls above.
    void reconnectTimed(std::uint64_t stream, double ms);

    // Totals readable from any thread while the run goes on.
    struct Live {
        std::atomic<std::uint64_t> delivered{0};
        std::atomic<std::uint64_t> reconnects{0};
        std::atomic<std::int64_t> streamsOpen{0};
        std::atomic<std::int64_t> streamsStarved{0}; // waiting for a connection right now
        std::atomic<std::int64_t> streamsReconnecting{0}; // subscribed before, coming back now
        std::atomic<std::uint64_t> streamsEverOpened{0};
        std::atomic<sse::Clock::rep> lastFirstOpen{0};      // when the latest of them first opened
        std::atomic<std::uint64_t> requests{0};
        std::atomic<std::uint64_t> bytes{0};
        std::atomic<std::uint64_t> heartbeatBytes{0};
    };
    const Live &live() const { return m_live; }

    // Per-group totals, per-stream rows and cost usage, over the measured window. Call on
    // the recorder's thread (or once it is quiet), after the publisher stopped: `lastSeq` is
    // its last event.
    struct GroupTotals {
        metrics::StreamAccount account;
        std::uint64_t streams = 0;
        std::uint64_t starved = 0;
        std::uint64_t neverServed = 0;
        std::uint64_t rejected = 0;
        std::uint64_t requests = 0;
        std::uint64_t bytes = 0;          // response bodies as the clients read them
        std::uint64_t heartbeatBytes = 0;
        double connectionSeconds = 0;     // client connections open (a poller's kept-alive one too)
        double executionSeconds = 0;      // requests being served (a stream while open, a poll in flight)
        double stalledStreamSeconds = 0;  // waiting behind another stream's loss (stallmeter.h)
    };
    void collect(std::uint64_t lastSeq, std::vector<GroupTotals> &groups, std::vector<metrics::StreamSummary> *rows) const;

private:

    struct Stream {
        int group = 0;
        int client = 0;
        int stream = 0;
        QString node;
        metrics::StreamTracker tracker;
        std::uint32_t attempt = 0;
        bool opened = false;
        bool open = false;
        bool starved = false;
        bool waiting = false;
        bool reconnecting = false;
        bool polling = false; // a poller that has made a request
        std::uint64_t firstExpected = 0;
        std::uint64_t wantedFrom = 0; // the publisher's next event when the browser arrived
        double timeToFirstEventMs = -1;
        double reconnectMs = -1; // the first reconnect: from the stream's end to the next open
        sse::Clock::time_point endedAt;
        sse::Clock::time_point openedAt;
        sse::Clock::time_point connectionOpenedAt; // this connection's response head
        sse::Clock::time_point pollingSince;
        double openSeconds = 0;      // in the window
        double executionSeconds = 0; // polls in flight, in the window
        std::uint64_t requests = 0;  // made in the window
        std::uint64_t bytes = 0;
        std::uint64_t heartbeatBytes = 0;
        std::uint64_t unnamed = 0; // id-less events on this connection (an external origin's)
        metrics::SparseLatencyHistogram latency;
        // The access link's record of this stream's connection, looked up once a connection
        // (an HTTP/2 connection's streams each hold it), not once an event.
        std::shared_ptr<const link::ReleaseLog::Record> release;
        quint32 releaseIPv4 = 0;
        quint16 releasePort = 0;
    };
    std::optional<std::uint64_t> seqOf(Stream &s, const sse::ReceivedEvent &event) const;
    void recordError(Stream &s, GroupMetrics &group, std::uint64_t seq, const sse::ReceivedEvent &event,
                     sse::Clock::time_point publishedAt);

    metrics::StreamAccount accountFor(const Stream &s, std::uint64_t lastSeq) const;
    // Feeds the browser's StallMeter (browsers of several SSE streams only).
    void recordStall(std::uint64_t tag, const Stream &s, const GroupMetrics &group, std::uint64_t seq,
                     sse::Clock::time_point receivedAt, sse::Clock::time_point publishedAt);

    RunShared &m_shared;
    std::size_t m_shard;
    std::vector<Stream> m_streams;
    std::unordered_map<std::uint64_t, StallMeter> m_stalls; // by the browser's first stream tag
    Live m_live;
};

} // namespace edgesse::sim
