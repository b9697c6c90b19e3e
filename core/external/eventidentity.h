#pragma once

#include <QByteArray>
#include <QHash>

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

namespace edgesse::external {

// Names the events of a server EdgeSSE did not publish: each event key (its `id`, or
// "#n" for the n-th id-less event of a stream) gets a sequence number 1, 2, 3, ... in the
// order the first link saw it first, so exactly-once accounting and publish times work as
// for EdgeSSE's own events. Thread-safe.
class EventIdentity
{
public:
    // The key's sequence number, the next one when it is new (then `isNew` is set).
    std::uint64_t assign(const QByteArray &key, bool *isNew);
    std::optional<std::uint64_t> find(const QByteArray &key) const;
    // The key of a sequence number (empty when unknown).
    QByteArray key(std::uint64_t seq) const;
    std::uint64_t count() const;

    // The key of an event as a stream saw it: its id, or "#ordinal" without one.
    static QByteArray keyOf(const QByteArray &id, std::uint64_t ordinal);

private:
    mutable std::mutex m_mutex;
    QHash<QByteArray, std::uint64_t> m_seqs;
    std::vector<QByteArray> m_keys; // by seq - 1
};

} // namespace edgesse::external
