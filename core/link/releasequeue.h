#pragma once

#include "core/link/timing.h"

#include <cstddef>
#include <cstdint>
#include <vector>

struct iovec;

namespace edgesse::link {

// The bytes of one direction waiting for their release times, in stream order. Bytes sit in
// one ring and their release times in another, each grown by doubling (amortised: a steady
// stream allocates nothing). A span's bytes leave only after every byte ahead of them, so
// a held span (a lost segment awaiting recovery) holds all that follows: head-of-line.
class ReleaseQueue
{
public:
    struct Span {
        TimePoint release{};
        std::uint64_t offset = 0; // stream offset of its first byte
        std::uint32_t length = 0;
        bool fin = false;
        bool pinned = false; // never merged: its release may still be revised
        bool reset = false;  // with fin: the end is a reset (RST), not a FIN
    };

    bool empty() const { return m_spanCount == 0; }
    std::size_t bytes() const { return m_byteCount; }
    std::uint64_t nextOffset() const { return m_nextOffset; }
    const Span &front() const { return m_spans[m_spanHead]; }

    // Appends bytes with their release; merged into the last span when it has the same one.
    void push(TimePoint release, const char *data, std::size_t size, bool pinned = false);
    void pushFin(TimePoint release);
    // The sender reset the connection and its RST arrives at `release`: the bytes that would
    // have arrived by then stay queued in front of it, the rest (a lost segment not yet
    // recovered and every byte behind it) can never arrive and are dropped. Returns how many
    // bytes were dropped.
    std::size_t pushReset(TimePoint release);
    // Moves the release of the span starting at `offset`; false when no queued span does.
    bool revise(std::uint64_t offset, TimePoint release);

    // The released bytes at the head (release <= now, up to a FIN or a later span) as at
    // most two iovecs; returns how many bytes they hold.
    std::size_t released(TimePoint now, iovec (&iov)[2], int &count) const;
    // Removes `bytes` bytes from the head; returns the largest release among the spans
    // (wholly or partly) removed, the moment the model meant them to leave.
    TimePoint consume(std::size_t bytes);
    // Removes a FIN at the head.
    void popFin();
    void clear();

private:
    void growBytes(std::size_t needed);
    void growSpans();
    Span &spanAt(std::size_t i) { return m_spans[(m_spanHead + i) & (m_spans.size() - 1)]; }
    const Span &spanAt(std::size_t i) const { return m_spans[(m_spanHead + i) & (m_spans.size() - 1)]; }

    std::vector<char> m_ring;
    std::size_t m_byteHead = 0;
    std::size_t m_byteCount = 0;
    std::vector<Span> m_spans;
    std::size_t m_spanHead = 0;
    std::size_t m_spanCount = 0;
    std::uint64_t m_nextOffset = 0;
};

} // namespace edgesse::link
