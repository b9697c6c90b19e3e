#include "core/link/ssetap.h"

#include <QList>

#include <algorithm>
#include <cstring>

namespace edgesse::link {

namespace {

constexpr qsizetype kMaxHeadBytes = 64 * 1024;
constexpr qsizetype kMaxLineBytes = 4096;

QByteArray headerValue(const QList<QByteArray> &lines, const QByteArray &name)
{
    for (const QByteArray &line : lines) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().toLower() == name)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

} // namespace

SseTap::SseTap(SseTapSink &sink)
    : m_sink(sink)
    , m_parser(*this)
{
}

SseTap::SseTap(std::unique_ptr<SseTapSink> sink)
    : m_ownedSink(std::move(sink))
    , m_sink(*m_ownedSink)
    , m_parser(*this)
{
}

void SseTap::bytesFromTarget(const char *data, std::size_t size, TimePoint arrival)
{
    m_now = arrival;
    m_eventsThisRead = 0;
    std::size_t bodyBytes = 0;
    while (size > 0 && m_state != State::Ignore) {
        if (m_state == State::Head) {
            if (!feedHead(data, size))
                return;
            continue;
        }
        if (m_state == State::ChunkSize || m_state == State::ChunkDataEnd || m_state == State::Trailer) {
            QByteArray line;
            if (!readLine(data, size, line))
                return;
            if (m_state == State::ChunkDataEnd) {
                m_state = State::ChunkSize;
            } else if (m_state == State::Trailer) {
                if (line.isEmpty())
                    endBody();
            } else {
                bool ok = false;
                const qsizetype semicolon = line.indexOf(';');
                m_remaining = (semicolon >= 0 ? line.left(semicolon) : line).trimmed().toULongLong(&ok, 16);
                m_state = !ok ? State::Ignore : m_remaining == 0 ? State::Trailer : State::ChunkData;
            }
            continue;
        }
        std::size_t take = size;
        if (m_state == State::ChunkData || m_state == State::Sized)
            take = std::size_t(std::min<std::uint64_t>(m_remaining, size));
        feedBody(data, take);
        bodyBytes += take;
        data += take;
        size -= take;
        if (m_state == State::UntilClose)
            continue;
        m_remaining -= take;
        if (m_remaining == 0) {
            if (m_state == State::ChunkData)
                m_state = State::ChunkDataEnd;
            else
                endBody();
        }
    }
    if (bodyBytes > 0 && m_head.eventStream)
        m_sink.readSeen(bodyBytes, m_eventsThisRead, arrival);
}

void SseTap::targetClosed(TimePoint at)
{
    m_now = at;
    if (m_state != State::Head && m_state != State::Ignore && m_head.eventStream)
        m_sink.streamEnded(at);
    m_state = State::Ignore;
}

bool SseTap::readLine(const char *&data, std::size_t &size, QByteArray &line)
{
    const char *end = static_cast<const char *>(std::memchr(data, '\n', size));
    const std::size_t take = end ? std::size_t(end - data) + 1 : size;
    m_buffer.append(data, qsizetype(take));
    data += take;
    size -= take;
    if (!end) {
        if (m_buffer.size() > kMaxLineBytes)
            m_state = State::Ignore;
        return false;
    }
    line = m_buffer.trimmed();
    m_buffer.clear();
    return true;
}

bool SseTap::feedHead(const char *&data, std::size_t &size)
{
    const qsizetype before = m_buffer.size();
    m_buffer.append(data, qsizetype(size));
    if (m_buffer.size() >= 5 && !m_buffer.startsWith("HTTP/")) {
        m_state = State::Ignore; // not HTTP/1.x (an h2 connection): nothing to stamp
        return false;
    }
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0) {
        if (m_buffer.size() > kMaxHeadBytes)
            m_state = State::Ignore;
        data += size;
        size = 0;
        return false;
    }
    const std::size_t used = std::size_t(end + 4 - before);
    data += used;
    size -= used;
    const QList<QByteArray> lines = m_buffer.left(end).split('\n');
    m_buffer.clear();
    const QList<QByteArray> status = lines.front().trimmed().split(' ');
    m_head = {};
    m_head.status = status.size() >= 2 ? status[1].toInt() : 0;
    if (m_head.status >= 100 && m_head.status < 200)
        return true; // an interim response; the real head follows
    m_head.contentType = headerValue(lines, "content-type");
    m_head.cacheControl = headerValue(lines, "cache-control");
    m_head.retryAfter = headerValue(lines, "retry-after");
    m_head.eventStream = m_head.status == 200 && m_head.contentType.toLower().startsWith("text/event-stream");
    m_chunked = headerValue(lines, "transfer-encoding").toLower().contains("chunked");
    bool sized = false;
    m_remaining = headerValue(lines, "content-length").toULongLong(&sized);
    m_sink.responseHead(m_head, m_now);
    if (m_head.eventStream) {
        m_parser.reset();
        m_parser.setLastEventId({});
        m_ordinal = 0;
    }
    if (m_head.status == 204 || m_head.status == 304 || (sized && m_remaining == 0 && !m_chunked))
        endBody();
    else
        m_state = m_chunked ? State::ChunkSize : sized ? State::Sized : State::UntilClose;
    return true;
}

void SseTap::feedBody(const char *data, std::size_t size)
{
    if (m_head.eventStream && size > 0)
        m_parser.feed(data, size);
}

void SseTap::endBody()
{
    if (m_head.eventStream)
        m_sink.streamEnded(m_now);
    m_head = {};
    m_state = State::Head;
}

void SseTap::eventDispatched(const sse::Event &event)
{
    ++m_eventsThisRead;
    if (event.id.isEmpty())
        m_sink.eventSeen({}, ++m_ordinal, m_now);
    else
        m_sink.eventSeen(event.id, 0, m_now);
}

void SseTap::commentReceived(std::size_t)
{
    m_sink.commentSeen(m_now);
}

} // namespace edgesse::link
