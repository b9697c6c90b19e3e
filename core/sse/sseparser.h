#pragma once

#include "core/sse/sseevent.h"

#include <QByteArray>

#include <chrono>
#include <cstddef>

namespace edgesse::sse {

// Incremental `text/event-stream` parser following the WHATWG HTML "interpreting an event
// stream" rules: CR, LF and CRLF line ends (a CRLF split across chunks counts once), one
// leading BOM ignored, comment lines, the fields `event`, `data` (joined with LF), `id`
// (ignored when it contains NULL; an empty value resets), `retry` (ASCII digits only);
// a blank line dispatches; an event still open when the stream ends is never dispatched.
// Bytes are kept as they came (no UTF-8 re-encoding). Feed chunks split anywhere; lines
// that fit in one chunk are processed in place, without copying.
class SseParser
{
public:
    class Sink
    {
    public:
        virtual ~Sink() = default;
        // `event.id` is the stream's last event ID at dispatch time, as the spec sets it.
        virtual void eventDispatched(const Event &event) = 0;
        virtual void retryChanged(std::chrono::milliseconds retry) { (void)retry; }
        // `bytes` counts the comment line without its terminator.
        virtual void commentReceived(std::size_t bytes) { (void)bytes; }
    };

    explicit SseParser(Sink &sink) : m_sink(sink) {}

    void feed(const char *data, std::size_t size);
    void feed(const QByteArray &chunk) { feed(chunk.constData(), static_cast<std::size_t>(chunk.size())); }

    // A new connection begins: BOM and line state reset, pending fields dropped. The last
    // event ID survives (it is the stream's, sent back as Last-Event-ID).
    void reset();

    // Inside eventDispatched: the index, in the chunk being fed, of the line end that
    // dispatched the event (its last byte on the wire, but for the LF of a CRLF).
    std::size_t dispatchedAt() const { return static_cast<std::size_t>(m_lineEnd - m_feedStart); }

    const QByteArray &lastEventId() const { return m_lastEventId; }
    void setLastEventId(const QByteArray &id) { m_lastEventId = id; }

    // Longest line kept while waiting for its end; a longer one is dropped (and counted).
    void setMaxLineBytes(std::size_t bytes) { m_maxLineBytes = bytes; }
    std::size_t droppedLines() const { return m_droppedLines; }

private:
    void processLine(const char *line, std::size_t size);
    void dispatch();

    Sink &m_sink;
    QByteArray m_partial;        // a line whose end has not arrived yet
    QByteArray m_data;           // the data buffer
    QByteArray m_type;           // the event type buffer
    QByteArray m_idBuffer;       // the last event ID buffer (set by `id`, read at dispatch)
    QByteArray m_lastEventId;    // the event source's last event ID string
    Event m_event;               // reused for every dispatch
    std::optional<std::chrono::milliseconds> m_retry; // retry seen since the last dispatch
    std::size_t m_maxLineBytes = 16 * 1024 * 1024;
    std::size_t m_droppedLines = 0;
    int m_bomBytesSeen = 0;      // 0..3 while checking for EF BB BF, -1 once decided
    bool m_skipLf = false;       // the previous chunk ended with CR
    bool m_overlong = false;     // discarding the rest of an overlong line
    const char *m_feedStart = nullptr; // the chunk being fed, and the end of the line in hand
    const char *m_lineEnd = nullptr;
};

} // namespace edgesse::sse
