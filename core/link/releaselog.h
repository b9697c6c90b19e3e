#pragma once

#include "core/link/linksettings.h"
#include "core/link/timing.h"

#include <QHostAddress>

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace edgesse::link {

// What a link meant for the bytes it carried: per connection and direction, the release time
// the model intended for each byte range and the time the link wrote it. The run asks it
// about an event's last byte to know its exact simulator error (measured - intended).
//
// A connection is named by its client's address and port (the client knows its own local
// port). Offsets count the bytes of one direction from the connection's start: downstream,
// every byte the client has received on the socket, headers included. Each direction keeps
// its last kEntries writes (a bounded record); a byte written earlier than that is
// forgotten. A connection's record outlives the connection until another connection from the
// same address and port replaces it.
//
// Written from the link's thread; intended() may be called from any thread.
class ReleaseLog
{
public:
    static constexpr std::size_t kEntries = 256;

    struct Release {
        TimePoint intended; // when the model meant the byte to leave the link
        TimePoint written;  // when the link wrote it to the receiving socket
    };

    class Record
    {
    public:
        // Bytes up to `endOffset` (exclusive) written at `written`, the latest of them due at
        // `intended`.
        void add(Direction direction, std::uint64_t endOffset, TimePoint intended, TimePoint written);
        std::optional<Release> find(Direction direction, std::uint64_t offset) const;

    private:
        struct Entry {
            std::uint64_t endOffset = 0;
            TimePoint intended{};
            TimePoint written{};
        };
        struct Ring {
            std::array<Entry, kEntries> entries{};
            std::size_t count = 0; // total ever added
        };
        mutable std::mutex m_mutex;
        Ring m_rings[2];
    };

    // A new record for a connection from `client`:`port` (replacing an older one).
    std::shared_ptr<Record> open(const QHostAddress &client, quint16 port);
    // The release of the byte at `offset` of one direction of that connection.
    std::optional<Release> intended(const QHostAddress &client, quint16 port, Direction direction, std::uint64_t offset) const;

private:
    static std::uint64_t key(const QHostAddress &client, quint16 port);

    mutable std::mutex m_mutex;
    std::unordered_map<std::uint64_t, std::shared_ptr<Record>> m_records;
};

} // namespace edgesse::link
