// libFuzzer target for the SSE parser: any bytes, fed whole and then split at the points the
// input's first bytes choose, dispatch the same events, retries and comments — the parser is
// incremental, so where a chunk ends must not matter.

#include "core/sse/sseparser.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace {

struct Recorder final : edgesse::sse::SseParser::Sink {
    std::vector<QByteArray> seen;
    void eventDispatched(const edgesse::sse::Event &event) override
    {
        QByteArray record("E");
        record.append(event.id).append('\0').append(event.type).append('\0').append(event.data).append('\0');
        record.append(QByteArray::number(event.retry ? qint64(event.retry->count()) : -1));
        seen.push_back(record);
    }
    void retryChanged(std::chrono::milliseconds retry) override
    {
        seen.push_back(QByteArray("R").append(QByteArray::number(qint64(retry.count()))));
    }
    void commentReceived(std::size_t bytes) override { seen.push_back(QByteArray("C").append(QByteArray::number(quint64(bytes)))); }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    if (size < 2)
        return 0;
    const std::size_t a = data[0] % size;
    const std::size_t b = std::max(a, std::size_t(data[1]) % size);
    const char *text = reinterpret_cast<const char *>(data) + 2;
    const std::size_t length = size - 2;

    Recorder whole;
    edgesse::sse::SseParser wholeParser(whole);
    wholeParser.feed(text, length);

    Recorder pieces;
    edgesse::sse::SseParser piecesParser(pieces);
    const std::size_t first = std::min(a, length);
    const std::size_t second = std::min(b, length);
    piecesParser.feed(text, first);
    piecesParser.feed(text + first, second - first);
    for (std::size_t i = second; i < length; ++i)
        piecesParser.feed(text + i, 1);
    if (whole.seen != pieces.seen)
        std::abort();
    return 0;
}
