#include "core/metrics/streamtracker.h"

#include <algorithm>

namespace edgesse::metrics {

QString disconnectCauseName(DisconnectCause cause)
{
    return lossCauseName(lossCauseFor(cause));
}

QString lossCauseName(LossCause cause)
{
    switch (cause) {
    case LossCause::IdleTimeout: return QStringLiteral("idle_timeout");
    case LossCause::MaxDuration: return QStringLiteral("max_duration");
    case LossCause::ServerClose: return QStringLiteral("server_close");
    case LossCause::Error: return QStringLiteral("error");
    case LossCause::Rejected: return QStringLiteral("rejected");
    case LossCause::NotConnected: return QStringLiteral("not_connected");
    case LossCause::Gap: return QStringLiteral("gap");
    case LossCause::Tail: return QStringLiteral("tail");
    case LossCause::NeverServed: return QStringLiteral("never_served");
    }
    return QStringLiteral("unknown");
}

LossCause lossCauseFor(DisconnectCause cause)
{
    return LossCause(std::uint8_t(cause));
}

StreamAccount &StreamAccount::operator+=(const StreamAccount &other)
{
    expected += other.expected;
    delivered += other.delivered;
    lost += other.lost;
    duplicated += other.duplicated;
    early += other.early;
    reconnects += other.reconnects;
    for (std::size_t i = 0; i < kLossCauseCount; ++i)
        lostByCause[i] += other.lostByCause[i];
    for (std::size_t i = 0; i < kDisconnectCauseCount; ++i)
        reconnectsByCause[i] += other.reconnectsByCause[i];
    return *this;
}

StreamTracker::StreamTracker(std::uint64_t firstExpectedSeq)
    : m_first(firstExpectedSeq)
{
}

StreamTracker::Receipt StreamTracker::received(std::uint64_t seq)
{
    if (seq < m_first) {
        ++m_early;
        return Receipt::Early;
    }
    // The common case first: the next event in order.
    if (!m_ranges.empty() && seq == m_ranges.back().hi + 1) {
        m_ranges.back().hi = seq;
    } else if (m_ranges.empty() || seq > m_ranges.back().hi + 1) {
        m_ranges.push_back({seq, seq});
    } else {
        // At or below the high-water mark: a duplicate, or a hole being filled (replay).
        auto after = std::upper_bound(m_ranges.begin(), m_ranges.end(), seq,
                                      [](std::uint64_t s, const Range &r) { return s < r.lo; });
        if (after != m_ranges.begin() && std::prev(after)->hi >= seq) {
            ++m_duplicated;
            return Receipt::Duplicate;
        }
        const bool joinsPrevious = after != m_ranges.begin() && std::prev(after)->hi + 1 == seq;
        const bool joinsNext = after != m_ranges.end() && after->lo == seq + 1;
        if (joinsPrevious && joinsNext) {
            std::prev(after)->hi = after->hi;
            m_ranges.erase(after);
        } else if (joinsPrevious) {
            std::prev(after)->hi = seq;
        } else if (joinsNext) {
            after->lo = seq;
        } else {
            m_ranges.insert(after, {seq, seq});
        }
    }
    for (; m_unresumed < m_interruptions.size(); ++m_unresumed) {
        m_interruptions[m_unresumed].resumed = true;
        m_interruptions[m_unresumed].resumedAt = seq;
    }
    return Receipt::Delivered;
}

void StreamTracker::disconnected(DisconnectCause cause)
{
    m_interruptions.push_back({cause, hasReceived(), highWater()});
}

void StreamTracker::attributeDefault(std::uint64_t lo, std::uint64_t hi, StreamAccount &account) const
{
    LossCause cause = LossCause::Gap;
    if (m_ranges.empty() || hi < m_ranges.front().lo)
        cause = LossCause::NotConnected;
    else if (lo > m_ranges.back().hi)
        cause = LossCause::Tail;
    account.lostByCause[std::size_t(cause)] += hi - lo + 1;
}

void StreamTracker::attribute(std::uint64_t lo, std::uint64_t hi, StreamAccount &account) const
{
    // Each interruption covers the sequence numbers after the last event received before
    // it up to the first event received after it; the earliest interruption wins where
    // several cover the same numbers (a reconnect that failed again).
    std::uint64_t cursor = lo;
    for (const Interruption &interruption : m_interruptions) {
        if (cursor > hi)
            break;
        const std::uint64_t spanLo = interruption.hadReceived ? interruption.highWater + 1 : m_first;
        const std::uint64_t spanHi = interruption.resumed ? interruption.resumedAt - 1 : UINT64_MAX;
        if (interruption.resumed && interruption.resumedAt == 0)
            continue;
        if (spanHi < cursor || spanLo > hi || spanLo > spanHi)
            continue;
        if (spanLo > cursor) {
            attributeDefault(cursor, spanLo - 1, account);
            cursor = spanLo;
        }
        const std::uint64_t end = std::min(hi, spanHi);
        account.lostByCause[std::size_t(lossCauseFor(interruption.cause))] += end - cursor + 1;
        if (end == UINT64_MAX)
            return;
        cursor = end + 1;
    }
    if (cursor <= hi)
        attributeDefault(cursor, hi, account);
}

StreamAccount StreamTracker::account(std::uint64_t lastExpectedSeq) const
{
    StreamAccount account;
    account.duplicated = m_duplicated;
    account.early = m_early;
    account.reconnects = m_interruptions.size();
    for (const Interruption &interruption : m_interruptions)
        ++account.reconnectsByCause[std::size_t(interruption.cause)];
    if (lastExpectedSeq < m_first)
        return account;
    account.expected = lastExpectedSeq - m_first + 1;
    std::uint64_t cursor = m_first; // first sequence number not yet accounted for
    for (const Range &range : m_ranges) {
        if (range.lo > lastExpectedSeq)
            break;
        if (range.hi < cursor)
            continue; // received before the window opened
        if (range.lo > cursor)
            attribute(cursor, range.lo - 1, account);
        const std::uint64_t hi = std::min(range.hi, lastExpectedSeq);
        account.delivered += hi - std::max(range.lo, cursor) + 1;
        cursor = hi + 1;
    }
    if (cursor <= lastExpectedSeq)
        attribute(cursor, lastExpectedSeq, account);
    account.lost = account.expected - account.delivered;
    return account;
}

StreamAccount StreamTracker::neverServed(std::uint64_t lastExpectedSeq) const
{
    StreamAccount account;
    account.duplicated = m_duplicated;
    account.early = m_early;
    account.reconnects = m_interruptions.size();
    bool rejected = false;
    for (const Interruption &interruption : m_interruptions) {
        ++account.reconnectsByCause[std::size_t(interruption.cause)];
        rejected = rejected || interruption.cause == DisconnectCause::Rejected;
    }
    if (lastExpectedSeq < m_first)
        return account;
    account.expected = lastExpectedSeq - m_first + 1;
    account.lost = account.expected;
    account.lostByCause[std::size_t(rejected ? LossCause::Rejected : LossCause::NeverServed)] = account.lost;
    return account;
}

} // namespace edgesse::metrics
