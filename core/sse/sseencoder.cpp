#include "core/sse/sseencoder.h"

#include <QStringBuilder>

namespace edgesse::sse {

namespace {

void appendField(QByteArray &out, QByteArrayView name, QByteArrayView value)
{
    out.append(name);
    out.append(": ", 2);
    for (const char c : value) {
        if (c != '\n' && c != '\r' && c != '\0')
            out.append(c);
    }
    out.append('\n');
}

} // namespace

void SseEncoder::append(QByteArray &out, const Event &event)
{
    out.reserve(out.size() + event.data.size() + event.id.size() + event.type.size() + 32);
    if (!event.id.isEmpty())
        appendField(out, "id", event.id);
    if (!event.type.isEmpty())
        appendField(out, "event", event.type);
    if (event.retry)
        out.append(QByteArrayLiteral("retry: ") + QByteArray::number(static_cast<qint64>(event.retry->count())) + '\n');
    const QByteArray &data = event.data;
    qsizetype start = 0;
    for (;;) {
        qsizetype end = start;
        while (end < data.size() && data[end] != '\n' && data[end] != '\r')
            ++end;
        out.append("data: ", 6);
        out.append(data.constData() + start, end - start);
        out.append('\n');
        if (end >= data.size())
            break;
        if (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n')
            ++end;
        start = end + 1;
        if (start == data.size()) { // data ended with a line break: one more empty line
            out.append("data: \n", 7);
            break;
        }
    }
    out.append('\n');
}

QByteArray SseEncoder::encode(const Event &event)
{
    QByteArray out;
    append(out, event);
    return out;
}

QByteArray SseEncoder::comment(QByteArrayView text)
{
    QByteArray out;
    out.reserve(text.size() + 4);
    out.append(':');
    if (!text.isEmpty()) {
        out.append(' ');
        for (const char c : text) {
            if (c != '\n' && c != '\r')
                out.append(c);
        }
    }
    out.append("\n\n", 2);
    return out;
}

QByteArray SseEncoder::retry(std::chrono::milliseconds delay)
{
    return QByteArrayLiteral("retry: ") + QByteArray::number(static_cast<qint64>(delay.count())) + "\n\n";
}

} // namespace edgesse::sse
