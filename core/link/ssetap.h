#pragma once

#include "core/sse/sseparser.h"

#include <QByteArray>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

namespace edgesse::link {

// What a tap reports about one connection's responses (the bytes a link carries from its
// target towards the client), on the link's thread, in order.
class SseTapSink
{
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    struct Head {
        int status = 0;
        QByteArray contentType;  // as sent, empty when absent
        QByteArray cacheControl;
        QByteArray retryAfter;
        bool eventStream = false; // 200 with text/event-stream: the body is parsed
    };
    virtual ~SseTapSink() = default;
    virtual void responseHead(const Head &head, TimePoint at) { (void)head; (void)at; }
    // An event dispatched from the stream: `id` as the event carried it (empty when it had
    // none: then `ordinal`, its place among this connection's id-less events, names it);
    // `at` is the receive time of the bytes that completed it.
    virtual void eventSeen(const QByteArray &id, std::uint64_t ordinal, TimePoint at) = 0;
    virtual void commentSeen(TimePoint at) { (void)at; }
    virtual void retrySeen(std::chrono::milliseconds retry) { (void)retry; }
    // One read from the target that carried stream bytes, and how many events it completed.
    virtual void readSeen(std::size_t bytes, int events, TimePoint at) { (void)bytes; (void)events; (void)at; }
    virtual void streamEnded(TimePoint at) { (void)at; }
};

// The stamping stage of a link: parses the HTTP/1.1 responses coming from the link's
// target (status line, headers, chunked, sized or close-delimited bodies, one response
// after another on a keep-alive connection) and the `text/event-stream` inside them, and
// tells its sink when each event's bytes left the target. It only observes: the bytes are
// forwarded unchanged by the link. One instance a connection, on the link's thread.
// HTTP/2 bytes are not understood: a tap that sees the h2 preface or frames stays silent.
class SseTap final : private sse::SseParser::Sink
{
public:
    using TimePoint = SseTapSink::TimePoint;
    using Factory = std::function<std::unique_ptr<SseTap>()>;

    explicit SseTap(SseTapSink &sink);
    explicit SseTap(std::unique_ptr<SseTapSink> sink); // the tap owns its sink
    SseTap(const SseTap &) = delete;
    SseTap &operator=(const SseTap &) = delete;

    // Bytes from the target, with their receive time.
    void bytesFromTarget(const char *data, std::size_t size, TimePoint arrival);
    // The target closed its side: a close-delimited body (and its stream) ends here.
    void targetClosed(TimePoint at);

private:
    enum class State { Head, ChunkSize, ChunkData, ChunkDataEnd, Trailer, Sized, UntilClose, Ignore };

    void eventDispatched(const sse::Event &event) override;
    void retryChanged(std::chrono::milliseconds retry) override { m_sink.retrySeen(retry); }
    void commentReceived(std::size_t bytes) override;

    bool feedHead(const char *&data, std::size_t &size);
    void startBody();
    void feedBody(const char *data, std::size_t size);
    void endBody();
    bool readLine(const char *&data, std::size_t &size, QByteArray &line);

    std::unique_ptr<SseTapSink> m_ownedSink;
    SseTapSink &m_sink;
    sse::SseParser m_parser;
    State m_state = State::Head;
    QByteArray m_buffer; // the head, or a chunk-size / trailer line, so far
    SseTapSink::Head m_head;
    bool m_chunked = false;
    std::uint64_t m_remaining = 0; // of the sized body or the current chunk
    std::uint64_t m_ordinal = 0;   // id-less events of this connection so far
    int m_eventsThisRead = 0;
    TimePoint m_now;
};

} // namespace edgesse::link
