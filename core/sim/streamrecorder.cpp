#include "core/sim/streamrecorder.h"

#include "core/link/linkproxy.h"
#include "core/sim/hopledger.h"

#include "core/external/eventidentity.h"
#include "core/sse/sseencoder.h"

#include <algorithm>
#include <cmath>

namespace edgesse::sim {

namespace {

std::optional<metrics::DisconnectCause> metricsCause(sse::DisconnectCause cause)
{
    switch (cause) {
    case sse::DisconnectCause::ServerClose: return metrics::DisconnectCause::ServerClose;
    case sse::DisconnectCause::IdleReap: return metrics::DisconnectCause::IdleTimeout;
    case sse::DisconnectCause::MaxDuration: return metrics::DisconnectCause::MaxDuration;
    case sse::DisconnectCause::Error: return metrics::DisconnectCause::Error;
    case sse::DisconnectCause::Non200: return metrics::DisconnectCause::Rejected;
    case sse::DisconnectCause::Closed: return std::nullopt; // the run itself closed it
    }
    return std::nullopt;
}


} // namespace

void RunShared::setWindow(Clock::time_point from, Clock::time_point until)
{
    windowUntil.store(until.time_since_epoch().count(), std::memory_order_relaxed);
    windowFrom.store(from.time_since_epoch().count(), std::memory_order_relaxed);
}

void RunShared::endWindow(Clock::time_point until)
{
    const Clock::rep at = until.time_since_epoch().count();
    if (at < windowUntil.load(std::memory_order_relaxed))
        windowUntil.store(at, std::memory_order_relaxed);
}

bool RunShared::inWindow(Clock::time_point t) const
{
    const Clock::rep at = t.time_since_epoch().count();
    return at >= windowFrom.load(std::memory_order_relaxed) && at < windowUntil.load(std::memory_order_relaxed);
}

RunShared::Clock::time_point RunShared::windowEnd() const
{
    return Clock::time_point(Clock::duration(windowUntil.load(std::memory_order_relaxed)));
}

double RunShared::secondsInWindow(Clock::time_point from, Clock::time_point to) const
{
    const Clock::rep lo = std::max(from.time_since_epoch().count(), windowFrom.load(std::memory_order_relaxed));
    const Clock::rep hi = std::min(to.time_since_epoch().count(), windowUntil.load(std::memory_order_relaxed));
    return hi > lo ? std::chrono::duration<double>(Clock::duration(hi - lo)).count() : 0.0;
}

StreamRecorder::StreamRecorder(RunShared &shared, std::size_t shard)
    : m_shared(shared)
    , m_shard(shard)
{
}

std::uint64_t StreamRecorder::addStream(int group, int client, int stream, QString node)
{
    Stream s;
    s.group = group;
    s.client = client;
    s.stream = stream;
    s.node = std::move(node);
    s.wantedFrom = m_shared.log.published() + 1;
    m_streams.push_back(std::move(s));
    return m_streams.size() - 1;
}

void StreamRecorder::streamStarved(std::uint64_t stream, sse::Clock::time_point)
{
    Stream &s = m_streams[stream];
    s.starved = true;
    if (!s.waiting) {
        s.waiting = true;
        m_live.streamsStarved.fetch_add(1, std::memory_order_relaxed);
    }
}

void StreamRecorder::streamConnected(std::uint64_t stream, const sse::ConnectInfo &info)
{
    Stream &s = m_streams[stream];
    s.attempt = info.attempt;
    s.release.reset(); // a new connection, perhaps from the same port: its record is looked up anew
    if (s.waiting) {
        s.waiting = false;
        m_live.streamsStarved.fetch_sub(1, std::memory_order_relaxed);
    }
    if (!m_shared.inWindow(sse::Clock::now()))
        return;
    ++s.requests;
    m_live.requests.fetch_add(1, std::memory_order_relaxed);
}

void StreamRecorder::streamOpened(std::uint64_t stream, std::chrono::microseconds)
{
    Stream &s = m_streams[stream];
    const auto now = sse::Clock::now();
    if (!s.opened) {
        s.opened = true;
        s.firstExpected = m_shared.log.published() + 1;
        s.tracker.setFirstExpected(s.firstExpected);
        m_live.lastFirstOpen.store(now.time_since_epoch().count(), std::memory_order_relaxed);
        m_live.streamsEverOpened.fetch_add(1, std::memory_order_relaxed);
    }
    s.unnamed = 0;
    s.connectionOpenedAt = now;
    if (s.reconnecting) {
        if (s.reconnectMs < 0)
            s.reconnectMs = std::chrono::duration<double, std::milli>(now - s.endedAt).count();
        s.reconnecting = false;
        m_live.streamsReconnecting.fetch_sub(1, std::memory_order_relaxed);
    }
    if (!s.open) {
        s.open = true;
        s.openedAt = now;
        m_live.streamsOpen.fetch_add(1, std::memory_order_relaxed);
    }
}

void StreamRecorder::firstEventReceived(std::uint64_t stream, std::chrono::microseconds timeToFirstEvent)
{
    Stream &s = m_streams[stream];
    if (s.attempt != 0 || s.timeToFirstEventMs >= 0)
        return;
    s.timeToFirstEventMs = double(timeToFirstEvent.count()) / 1000.0;
    m_shared.groups[std::size_t(s.group)]->timeToFirstEvent.shard(m_shard).record(timeToFirstEvent);
}

std::optional<std::uint64_t> StreamRecorder::seqOf(Stream &s, const sse::ReceivedEvent &event) const
{
    if (!m_shared.identity)
        return event.seq;
    const std::uint64_t ordinal = event.event.id.isEmpty() ? ++s.unnamed : 0;
    return m_shared.identity->find(external::EventIdentity::keyOf(event.event.id, ordinal));
}

void StreamRecorder::eventReceived(std::uint64_t stream, const sse::ReceivedEvent &event)
{
    Stream &s = m_streams[stream];
    const std::optional<std::uint64_t> named = seqOf(s, event);
    if (!named)
        return;
    const std::uint64_t seq = *named;
    if (!s.opened) {
        // Polling answers without an event-stream response head: the first answer opens it.
        s.opened = true;
        s.firstExpected = std::min(seq, m_shared.log.published() + 1);
        s.tracker.setFirstExpected(s.firstExpected);
    }
    if (s.tracker.received(seq) != metrics::StreamTracker::Receipt::Delivered)
        return;
    m_live.delivered.fetch_add(1, std::memory_order_relaxed);
    if (seq < m_shared.measureFromSeq.load(std::memory_order_relaxed))
        return; // published during warm-up
    const auto publishedAt = m_shared.log.publishedAt(seq);
    if (!publishedAt)
        return;
    const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(event.receivedAt - *publishedAt);
    GroupMetrics &group = *m_shared.groups[std::size_t(s.group)];
    group.latency.shard(m_shard).record(latency);
    m_shared.allLatency.shard(m_shard).record(latency);
    if (group.push)
        group.overhead.shard(m_shard).record(std::max(latency - group.pathLatency, std::chrono::microseconds(0)));
    s.latency.record(std::uint64_t(std::max<std::int64_t>(latency.count(), 0)));
    recordError(s, group, seq, event, *publishedAt);
    recordStall(stream, s, group, seq, event.receivedAt, *publishedAt);
}

// A browser's streams are registered one after another: its first tag names it.
void StreamRecorder::recordStall(std::uint64_t tag, const Stream &s, const GroupMetrics &group, std::uint64_t seq,
                                 sse::Clock::time_point receivedAt, sse::Clock::time_point publishedAt)
{
    if (!group.push || s.stream > int(tag))
        return;
    const std::uint64_t first = tag - std::uint64_t(s.stream);
    auto it = m_stalls.find(first);
    if (it == m_stalls.end()) {
        int streams = 0;
        for (std::size_t t = first; t < m_streams.size() && m_streams[t].group == s.group && m_streams[t].client == s.client
                                    && m_streams[t].stream == streams;
             ++t)
            ++streams;
        if (streams < 2)
            return;
        it = m_stalls.emplace(first, StallMeter(streams, std::max(group.pathLatency, std::chrono::microseconds(1000)))).first;
    }
    it->second.arrived(s.stream, seq, publishedAt + group.pathLatency, receivedAt);
}

// Measured minus intended: the intended latency is what the links meant for the event's
// bytes (each hop's release - arrival). An event published before this connection opened
// was replayed when the stream came back: the wait for the reconnect is the scenario's,
// so only the last hop's lateness (receipt - its intended release) is the machine's.
void StreamRecorder::recordError(Stream &s, GroupMetrics &group, std::uint64_t seq,
                                 const sse::ReceivedEvent &event, sse::Clock::time_point publishedAt)
{
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    std::optional<link::ReleaseLog::Release> last;
    if (group.access && event.wire) {
        if (!s.release || s.releaseIPv4 != event.wire->localIPv4 || s.releasePort != event.wire->localPort) {
            s.release = group.access->releaseRecord(event.wire->localIPv4, event.wire->localPort);
            s.releaseIPv4 = event.wire->localIPv4;
            s.releasePort = event.wire->localPort;
        }
        if (s.release)
            last = s.release->find(link::Direction::Downstream, event.wire->offset);
    }
    if (!last) {
        group.errorUnmatched.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    microseconds error{0};
    if (publishedAt < s.connectionOpenedAt) {
        error = duration_cast<microseconds>(event.receivedAt - last->intended);
    } else {
        microseconds intended = last->modelled();
        if (group.behindPop) {
            const std::optional<microseconds> up = group.upstream ? group.upstream->modelled(seq) : std::nullopt;
            if (!up) {
                group.errorUnmatched.fetch_add(1, std::memory_order_relaxed);
                return;
            }
            intended += *up;
        }
        error = duration_cast<microseconds>(event.receivedAt - publishedAt) - intended;
    }
    group.error.shard(m_shard).record(std::max(error, microseconds(0)));
}

// Servers also write comments of their own (the replay note on a resumed stream); only
// the heartbeat counts as heartbeat overhead, at its size on the wire.
void StreamRecorder::commentReceived(std::uint64_t stream, std::size_t bytes)
{
    static const std::size_t wire = std::size_t(sse::SseEncoder::comment("heartbeat").size());
    static const std::size_t line = wire - 2; // ": heartbeat" without its line ends
    if ((bytes != line && bytes != line + 1) || !m_shared.inWindow(sse::Clock::now()))
        return;
    m_streams[stream].heartbeatBytes += wire;
    m_live.heartbeatBytes.fetch_add(wire, std::memory_order_relaxed);
}

void StreamRecorder::bytesReceived(std::uint64_t stream, std::size_t bytes)
{
    if (!m_shared.inWindow(sse::Clock::now()))
        return;
    m_streams[stream].bytes += bytes;
    m_live.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void StreamRecorder::streamDisconnected(std::uint64_t stream, const sse::Disconnect &disconnect)
{
    Stream &s = m_streams[stream];
    if (s.open) {
        s.open = false;
        s.openSeconds += m_shared.secondsInWindow(s.openedAt, sse::Clock::now());
        m_live.streamsOpen.fetch_sub(1, std::memory_order_relaxed);
    }
    // A stream that had subscribed and is coming back may still receive what it missed
    // (Last-Event-ID replay): the run's drain waits for such streams.
    const bool resuming = s.opened && disconnect.willReconnect;
    if (resuming && !s.reconnecting)
        s.endedAt = sse::Clock::now();
    if (resuming != s.reconnecting) {
        s.reconnecting = resuming;
        m_live.streamsReconnecting.fetch_add(resuming ? 1 : -1, std::memory_order_relaxed);
    }
    const auto cause = metricsCause(disconnect.cause);
    if (!cause || !disconnect.willReconnect)
        return;
    s.tracker.disconnected(*cause);
    m_live.reconnects.fetch_add(1, std::memory_order_relaxed);
}

void StreamRecorder::reconnectTimed(std::uint64_t stream, double ms)
{
    m_streams[stream].reconnectMs = ms;
}

// A poll counts where it started; its connection stays open (kept alive) between polls.
void StreamRecorder::pollCompleted(std::uint64_t stream, std::chrono::microseconds duration, std::size_t)
{
    Stream &s = m_streams[stream];
    const auto now = sse::Clock::now();
    const auto started = now - duration;
    if (!s.polling) {
        s.polling = true;
        s.pollingSince = started;
    }
    s.executionSeconds += m_shared.secondsInWindow(started, now);
    if (!m_shared.inWindow(started))
        return;
    ++s.requests;
    m_live.requests.fetch_add(1, std::memory_order_relaxed);
}

// Only events published in the window are accounted for; a stream that never got a
// response is expected to receive what was published while its browser wanted it.
metrics::StreamAccount StreamRecorder::accountFor(const Stream &s, std::uint64_t lastSeq) const
{
    const std::uint64_t measureFrom = m_shared.measureFromSeq.load();
    metrics::StreamTracker tracker = s.tracker;
    if (s.opened) {
        tracker.setFirstExpected(std::max(s.firstExpected, measureFrom));
        return tracker.account(lastSeq);
    }
    tracker.setFirstExpected(std::max(s.wantedFrom, measureFrom));
    return tracker.neverServed(lastSeq);
}

void StreamRecorder::collect(std::uint64_t lastSeq, std::vector<GroupTotals> &groups,
                             std::vector<metrics::StreamSummary> *rows) const
{
    const auto end = m_shared.windowEnd();
    for (const auto &[first, meter] : m_stalls)
        groups[std::size_t(m_streams[first].group)].stalledStreamSeconds += meter.stalledSeconds();
    for (const Stream &s : m_streams) {
        GroupTotals &totals = groups[std::size_t(s.group)];
        const metrics::StreamAccount account = accountFor(s, lastSeq);
        totals.account += account;
        ++totals.streams;
        totals.starved += s.starved ? 1 : 0;
        if (!s.opened) {
            ++totals.neverServed;
            totals.rejected += account.reconnectsByCause[std::size_t(metrics::DisconnectCause::Rejected)] > 0 ? 1 : 0;
        }
        totals.requests += s.requests;
        totals.bytes += s.bytes;
        totals.heartbeatBytes += s.heartbeatBytes;
        if (s.polling) {
            totals.connectionSeconds += m_shared.secondsInWindow(s.pollingSince, end);
            totals.executionSeconds += s.executionSeconds;
        } else {
            const double open = s.openSeconds + (s.open ? m_shared.secondsInWindow(s.openedAt, end) : 0.0);
            totals.connectionSeconds += open;
            totals.executionSeconds += open;
        }
        if (rows) {
            metrics::StreamSummary row;
            row.group = m_shared.groups[std::size_t(s.group)]->name;
            row.client = s.client;
            row.stream = s.stream;
            row.node = s.node;
            row.account = account;
            row.starved = s.starved;
            row.timeToFirstEventMs = s.timeToFirstEventMs;
            row.reconnectMs = s.reconnectMs;
            row.latencyP50Ms = s.latency.percentileMs(50);
            row.latencyP99Ms = s.latency.percentileMs(99);
            row.latencyMaxMs = double(s.latency.maxUs()) / 1000.0;
            rows->push_back(std::move(row));
        }
    }
}

} // namespace edgesse::sim
