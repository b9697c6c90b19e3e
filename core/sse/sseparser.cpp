#include "core/sse/sseparser.h"

#include <cstring>
#include <limits>

namespace edgesse::sse {

namespace {

constexpr unsigned char kBom[3] = {0xEF, 0xBB, 0xBF};

template<std::size_t N>
bool fieldIs(const char *name, std::size_t size, const char (&literal)[N])
{
    return size == N - 1 && std::memcmp(name, literal, N - 1) == 0;
}

} // namespace

void SseParser::reset()
{
    m_partial.clear();
    m_data.clear();
    m_type.clear();
    m_idBuffer = m_lastEventId;
    m_retry.reset();
    m_bomBytesSeen = 0;
    m_skipLf = false;
    m_overlong = false;
}

void SseParser::feed(const char *data, std::size_t size)
{
    const char *p = data;
    const char *const end = data + size;
    m_feedStart = data;

    // One leading BOM (EF BB BF), possibly split across chunks, is ignored.
    while (m_bomBytesSeen >= 0 && p != end) {
        if (static_cast<unsigned char>(*p) == kBom[m_bomBytesSeen]) {
            ++p;
            if (++m_bomBytesSeen == 3)
                m_bomBytesSeen = -1;
        } else {
            // Not a BOM after all: the bytes held back are the start of the first line.
            m_partial.append(reinterpret_cast<const char *>(kBom), m_bomBytesSeen);
            m_bomBytesSeen = -1;
        }
    }

    if (m_skipLf && p != end) {
        m_skipLf = false;
        if (*p == '\n')
            ++p;
    }

    // The next LF is found once per chunk pass (memchr, vectorised) and reused for every
    // line before it; a CR is looked for only up to that LF, so CR-only streams stay linear.
    const char *nextLf = nullptr;
    while (p != end) {
        if (!nextLf || nextLf < p) {
            nextLf = static_cast<const char *>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
            if (!nextLf)
                nextLf = end;
        }
        const auto *cr = static_cast<const char *>(std::memchr(p, '\r', static_cast<std::size_t>(nextLf - p)));
        const char *lineEnd = cr ? cr : nextLf;
        m_lineEnd = lineEnd;
        if (lineEnd == end) {
            const auto rest = static_cast<std::size_t>(end - p);
            if (m_overlong)
                break;
            if (static_cast<std::size_t>(m_partial.size()) + rest > m_maxLineBytes) {
                m_partial.clear();
                m_overlong = true;
                ++m_droppedLines;
            } else {
                m_partial.append(p, static_cast<qsizetype>(rest));
            }
            break;
        }

        if (m_overlong) {
            m_overlong = false; // the overlong line ends here; it is dropped whole
        } else if (m_partial.isEmpty()) {
            processLine(p, static_cast<std::size_t>(lineEnd - p));
        } else if (static_cast<std::size_t>(m_partial.size() + (lineEnd - p)) > m_maxLineBytes) {
            m_partial.clear();
            ++m_droppedLines;
        } else {
            m_partial.append(p, lineEnd - p);
            const QByteArray line = std::move(m_partial);
            m_partial = QByteArray();
            processLine(line.constData(), static_cast<std::size_t>(line.size()));
        }

        p = lineEnd + 1;
        if (*lineEnd == '\r') {
            if (p == end)
                m_skipLf = true; // a LF opening the next chunk belongs to this CR
            else if (*p == '\n')
                ++p;
        }
    }
}

void SseParser::processLine(const char *line, std::size_t size)
{
    if (size == 0) {
        dispatch();
        return;
    }
    if (line[0] == ':') {
        m_sink.commentReceived(size);
        return;
    }

    const auto *colon = static_cast<const char *>(std::memchr(line, ':', size));
    const std::size_t nameSize = colon ? static_cast<std::size_t>(colon - line) : size;
    const char *value = colon ? colon + 1 : line + size;
    std::size_t valueSize = colon ? size - nameSize - 1 : 0;
    if (valueSize > 0 && *value == ' ') {
        ++value;
        --valueSize;
    }
    const auto valueLength = static_cast<qsizetype>(valueSize);

    if (fieldIs(line, nameSize, "data")) {
        m_data.append(value, valueLength);
        m_data.append('\n');
    } else if (fieldIs(line, nameSize, "event")) {
        m_type = QByteArray(value, valueLength);
    } else if (fieldIs(line, nameSize, "id")) {
        if (!std::memchr(value, '\0', valueSize))
            m_idBuffer = QByteArray(value, valueLength);
    } else if (fieldIs(line, nameSize, "retry")) {
        if (valueSize == 0)
            return;
        std::uint64_t ms = 0;
        constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / 1000);
        for (std::size_t i = 0; i < valueSize; ++i) {
            const char c = value[i];
            if (c < '0' || c > '9')
                return;
            ms = ms * 10 + static_cast<std::uint64_t>(c - '0');
            if (ms > kMax)
                ms = kMax; // saturate rather than wrap; such a wait is "never" in practice
        }
        m_retry = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
        m_sink.retryChanged(*m_retry);
    }
    // Any other field name is ignored.
}

void SseParser::dispatch()
{
    m_lastEventId = m_idBuffer;
    if (m_data.isEmpty()) {
        m_type.clear();
        m_retry.reset();
        return;
    }
    m_data.chop(1); // the LF appended after the last data line
    m_event.id = m_lastEventId;
    m_event.type.swap(m_type);
    m_event.data.swap(m_data);
    m_event.retry = m_retry;
    m_sink.eventDispatched(m_event);
    m_type.resize(0);
    m_data.resize(0);
    m_retry.reset();
}

} // namespace edgesse::sse
