#include "core/sim/streamaccount.h"

#include <algorithm>
#include <bit>

namespace edgesse::sim {

void StreamAccount::subscribed(std::uint64_t publishedSoFar)
{
    if (m_firstExpected)
        return;
    m_firstExpected = publishedSoFar + 1;
    if (m_distinct > 0)
        m_firstExpected = std::min(*m_firstExpected, firstReceived());
}

bool StreamAccount::received(std::uint64_t seq)
{
    if (seq == 0)
        return false;
    if (m_firstExpected && seq < *m_firstExpected)
        m_firstExpected = seq;
    if (!testAndSet(seq)) {
        ++m_duplicated;
        return false;
    }
    ++m_distinct;
    return true;
}

bool StreamAccount::testAndSet(std::uint64_t seq)
{
    if (m_bits.empty())
        m_base = seq & ~std::uint64_t{63};
    if (seq < m_base) {
        // Rare: an event older than any seen so far. Grow the bitset downwards.
        const std::uint64_t newBase = seq & ~std::uint64_t{63};
        const auto extraWords = static_cast<std::ptrdiff_t>((m_base - newBase) / 64);
        m_bits.insert(m_bits.begin(), static_cast<std::size_t>(extraWords), 0);
        m_base = newBase;
    }
    const std::uint64_t offset = seq - m_base;
    const auto word = static_cast<std::size_t>(offset / 64);
    if (word >= m_bits.size())
        m_bits.resize(word + 1, 0);
    const std::uint64_t mask = std::uint64_t{1} << (offset % 64);
    if (m_bits[word] & mask)
        return false;
    m_bits[word] |= mask;
    return true;
}

std::uint64_t StreamAccount::firstReceived() const
{
    for (std::size_t w = 0; w < m_bits.size(); ++w) {
        if (m_bits[w])
            return m_base + w * 64 + static_cast<std::uint64_t>(std::countr_zero(m_bits[w]));
    }
    return m_base;
}

StreamAccount::Tally StreamAccount::tally(std::uint64_t lastPublished) const
{
    Tally tally;
    tally.duplicated = m_duplicated;
    if (!m_firstExpected && m_distinct == 0)
        return tally;
    tally.subscribed = true;
    // Events that arrived without a subscription notice: expect from the first one received.
    const std::uint64_t first = m_firstExpected ? *m_firstExpected : firstReceived();
    if (lastPublished >= first)
        tally.expected = lastPublished - first + 1;
    // Count distinct received events inside [first, lastPublished].
    std::uint64_t delivered = 0;
    for (std::size_t w = 0; w < m_bits.size(); ++w) {
        std::uint64_t bits = m_bits[w];
        if (!bits)
            continue;
        const std::uint64_t wordBase = m_base + w * 64;
        for (int b = 0; b < 64; ++b) {
            if (bits & (std::uint64_t{1} << b)) {
                const std::uint64_t seq = wordBase + static_cast<std::uint64_t>(b);
                if (seq >= first && seq <= lastPublished)
                    ++delivered;
            }
        }
    }
    tally.delivered = delivered;
    tally.lost = tally.expected - std::min(delivered, tally.expected);
    return tally;
}

} // namespace edgesse::sim
