#pragma once

#include "core/link/linksettings.h"
#include "core/link/timing.h"

#include <QHostAddress>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace edgesse::link {

// What a link meant for the bytes it carried: per connection and direction, for each byte
// range when it reached the link (arrival), the release time the model intended for it, and
// the time the link wrote it. The run asks it about an event's last byte to know the delay
// the model drew for that hop (intended - arrival), and so its exact simulator error.
//
// A connection is named by its client's address and port (the client knows its own local
// port). Offsets count the bytes of one direction from the connection's start: downstream,
// every byte the client has received on the socket, headers included. Each direction keeps
// its last kEntries admitted spans and kEntries writes (a bounded record); a byte older than
// that is forgotten. A connection's record outlives the connection until another connection from the
// same address and port replaces it.
//
// Written from the link's thread; intended() may be called from any thread.
class ReleaseLog
{
public:
    static constexpr std::size_t kEntries = 256;

    struct Release {
        TimePoint arrival;  // when the byte reached the link (the kernel's receive stamp)
        TimePoint intended; // when the model meant the byte to leave the link
        TimePoint written;  // when the link wrote it to the receiving socket (epoch: not yet noted)
        std::chrono::microseconds modelled() const
        {
            return std::chrono::duration_cast<std::chrono::microseconds>(intended - arrival);
        }
    };

    class Record
    {
    public:
        // Bytes up to `endOffset` (exclusive) written at `written`, the latest of them due at
        // `intended`.
        void add(Direction direction, std::uint64_t endOffset, TimePoint intended, TimePoint written);
        // Bytes up to `endOffset` (exclusive, following the previous span) reached the link at
        // `arrival` and were given `release`; `pinned`: it may still be revised.
        void admit(Direction direction, std::uint64_t endOffset, TimePoint arrival, TimePoint release, bool pinned);
        // The span starting at `offset` was given a new release (loss recovery revised it).
        void revise(Direction direction, std::uint64_t offset, TimePoint release);
        std::optional<Release> find(Direction direction, std::uint64_t offset) const;

    private:
        struct Entry {
            std::uint64_t endOffset = 0;
            TimePoint at{};   // written: the write; spans: the arrival
            TimePoint release{};
            bool pinned = false;
        };
        struct Ring {
            std::array<Entry, kEntries> entries{};
            std::size_t count = 0; // total ever added
            bool pinned = false;   // a revisable span was admitted: later bytes may wait behind it
            void add(const Entry &e);
            // The index of the entry holding byte `offset`; nullopt when it is not (or no
            // longer) known.
            std::optional<std::size_t> find(std::uint64_t offset) const;
            Entry &at(std::size_t i) { return entries[i % kEntries]; }
            const Entry &at(std::size_t i) const { return entries[i % kEntries]; }
        };
        static std::size_t index(Direction direction) { return direction == Direction::Upstream ? 0 : 1; }
        mutable std::mutex m_mutex;
        Ring m_writes[2];
        Ring m_spans[2];
    };

    // A new record for a connection from `client`:`port` (replacing an older one).
    std::shared_ptr<Record> open(const QHostAddress &client, quint16 port);
    // The release of the byte at `offset` of one direction of that connection.
    std::optional<Release> intended(const QHostAddress &client, quint16 port, Direction direction, std::uint64_t offset) const;
    // The same for an IPv4 client given as a number (QHostAddress::toIPv4Address()).
    std::optional<Release> intended(quint32 clientIPv4, quint16 port, Direction direction, std::uint64_t offset) const;
    // The record of that connection itself (null when unknown), for a reader that asks about
    // many of its bytes: Record::find() then needs no lookup. It stays the connection's
    // record even once another connection from the same address and port replaces it.
    std::shared_ptr<const Record> record(quint32 clientIPv4, quint16 port) const;

private:
    static std::uint64_t key(const QHostAddress &client, quint16 port);
    static std::uint64_t key(quint32 clientIPv4, quint16 port) { return (std::uint64_t(clientIPv4) << 16) | port; }
    std::optional<Release> find(std::uint64_t key, Direction direction, std::uint64_t offset) const;

    mutable std::mutex m_mutex;
    std::unordered_map<std::uint64_t, std::shared_ptr<Record>> m_records;
};

} // namespace edgesse::link
