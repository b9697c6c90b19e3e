#pragma once

#include "core/sse/sseevent.h"

#include <QByteArray>
#include <QByteArrayView>

namespace edgesse::sse {

// The text/event-stream wire format, as the server writes it:
//   id: <id>\n  event: <type>\n  retry: <ms>\n  data: <line>\n ... \n
// `data` is split at CR, LF and CRLF into one `data:` line each, so a reader joining them
// with LF gets the data back (a lone CR becomes LF). CR, LF and NUL are dropped from `id`
// and `event`, which a reader would otherwise split or ignore. An event whose data is empty
// is still written with one empty `data:` line so that it dispatches.
class SseEncoder
{
public:
    static QByteArray encode(const Event &event);
    static void append(QByteArray &out, const Event &event);
    // A comment line and the blank line after it: ": <text>\n\n" (":\n\n" when text is empty).
    static QByteArray comment(QByteArrayView text);
    // "retry: <ms>\n\n": sets the reconnection time without dispatching an event.
    static QByteArray retry(std::chrono::milliseconds delay);
};

} // namespace edgesse::sse
