#include "core/sim/streamrecorder.h"

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

double secondsBetween(sse::Clock::time_point from, sse::Clock::time_point to)
{
    return std::chrono::duration<double>(to - from).count();
}

} // namespace

void StreamRecorder::SmallHistogram::record(std::uint64_t us)
{
    const double index = std::floor(4.0 * std::log2(double(us) + 1.0));
    counts[std::min<std::size_t>(std::size_t(index), counts.size() - 1)]++;
    maxUs = std::max(maxUs, us);
}

double StreamRecorder::SmallHistogram::percentileMs(double p) const
{
    std::uint64_t total = 0;
    for (auto c : counts)
        total += c;
    if (total == 0)
        return 0;
    const auto rank = std::uint64_t(std::ceil(p / 100.0 * double(total)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        seen += counts[i];
        if (seen >= std::max<std::uint64_t>(rank, 1)) {
            // The bucket's geometric middle, bounded by the largest value seen.
            const double us = std::exp2((double(i) + 0.5) / 4.0) - 1.0;
            return std::min(us, double(maxUs)) / 1000.0;
        }
    }
    return double(maxUs) / 1000.0;
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
    if (s.waiting) {
        s.waiting = false;
        m_live.streamsStarved.fetch_sub(1, std::memory_order_relaxed);
    }
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
    if (s.reconnecting) {
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
}

// Servers also write comments of their own (the replay note on a resumed stream); only
// the heartbeat counts as heartbeat overhead, at its size on the wire.
void StreamRecorder::commentReceived(std::uint64_t stream, std::size_t bytes)
{
    static const std::size_t wire = std::size_t(sse::SseEncoder::comment("heartbeat").size());
    static const std::size_t line = wire - 2; // ": heartbeat" without its line ends
    if (bytes != line && bytes != line + 1)
        return;
    m_streams[stream].heartbeatBytes += wire;
    m_live.heartbeatBytes.fetch_add(wire, std::memory_order_relaxed);
}

void StreamRecorder::bytesReceived(std::uint64_t stream, std::size_t bytes)
{
    m_streams[stream].bytes += bytes;
    m_live.bytes.fetch_add(bytes, std::memory_order_relaxed);
}

void StreamRecorder::streamDisconnected(std::uint64_t stream, const sse::Disconnect &disconnect)
{
    Stream &s = m_streams[stream];
    if (s.open) {
        s.open = false;
        s.openSeconds += secondsBetween(s.openedAt, sse::Clock::now());
        m_live.streamsOpen.fetch_sub(1, std::memory_order_relaxed);
    }
    // A stream that had subscribed and is coming back may still receive what it missed
    // (Last-Event-ID replay): the run's drain waits for such streams.
    const bool resuming = s.opened && disconnect.willReconnect;
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

void StreamRecorder::pollCompleted(std::uint64_t stream, std::chrono::microseconds duration, std::size_t)
{
    Stream &s = m_streams[stream];
    ++s.requests;
    s.openSeconds += double(duration.count()) / 1e6;
    m_live.requests.fetch_add(1, std::memory_order_relaxed);
}

void StreamRecorder::collect(std::uint64_t lastSeq, sse::Clock::time_point end, std::vector<GroupTotals> &groups,
                             std::vector<metrics::StreamSummary> *rows) const
{
    const std::uint64_t measureFrom = m_shared.measureFromSeq.load();
    for (const Stream &s : m_streams) {
        GroupTotals &totals = groups[std::size_t(s.group)];
        metrics::StreamAccount account;
        if (s.opened) {
            // Only events published after warm-up are accounted for.
            metrics::StreamTracker tracker = s.tracker;
            tracker.setFirstExpected(std::max(s.firstExpected, measureFrom));
            account = tracker.account(lastSeq);
        } else {
            // Never subscribed (refused or starved throughout): nothing was expected of it,
            // but its attempts and their causes count.
            metrics::StreamTracker tracker = s.tracker;
            tracker.setFirstExpected(lastSeq + 1);
            account = tracker.account(lastSeq);
        }
        totals.account += account;
        ++totals.streams;
        totals.starved += s.starved ? 1 : 0;
        totals.requests += s.requests;
        totals.bytes += s.bytes;
        totals.heartbeatBytes += s.heartbeatBytes;
        totals.connectionSeconds += s.openSeconds + (s.open ? secondsBetween(s.openedAt, end) : 0.0);
        if (rows) {
            metrics::StreamSummary row;
            row.group = m_shared.groups[std::size_t(s.group)]->name;
            row.client = s.client;
            row.stream = s.stream;
            row.node = s.node;
            row.account = account;
            row.starved = s.starved;
            row.timeToFirstEventMs = s.timeToFirstEventMs;
            row.latencyP50Ms = s.latency.percentileMs(50);
            row.latencyP99Ms = s.latency.percentileMs(99);
            row.latencyMaxMs = double(s.latency.maxUs) / 1000.0;
            rows->push_back(std::move(row));
        }
    }
}

} // namespace edgesse::sim
