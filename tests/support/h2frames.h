#pragma once

// Test support: HTTP/2 frames written by hand, for peers that misbehave on purpose (a zero
// receive window, a request sent byte by byte).

#include <QByteArray>

namespace edgesse::testing {

inline const QByteArray kH2Preface = QByteArrayLiteral("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

inline QByteArray h2Frame(quint8 type, quint8 flags, quint32 stream, const QByteArray &payload)
{
    QByteArray f;
    const auto length = static_cast<quint32>(payload.size());
    f.append(static_cast<char>((length >> 16) & 0xff));
    f.append(static_cast<char>((length >> 8) & 0xff));
    f.append(static_cast<char>(length & 0xff));
    f.append(static_cast<char>(type));
    f.append(static_cast<char>(flags));
    f.append(static_cast<char>((stream >> 24) & 0x7f));
    f.append(static_cast<char>((stream >> 16) & 0xff));
    f.append(static_cast<char>((stream >> 8) & 0xff));
    f.append(static_cast<char>(stream & 0xff));
    return f + payload;
}

// SETTINGS with SETTINGS_INITIAL_WINDOW_SIZE = `window` (0: no DATA may reach this peer).
inline QByteArray h2InitialWindow(quint32 window)
{
    QByteArray entry("\x00\x04", 2);
    for (int shift = 24; shift >= 0; shift -= 8)
        entry.append(static_cast<char>((window >> shift) & 0xff));
    return h2Frame(0x4, 0, 0, entry);
}

// A complete request (HEADERS, END_STREAM | END_HEADERS): GET http://a`path`, plus
// Last-Event-ID when `lastEventId` is not null. HPACK without Huffman or indexing.
inline QByteArray h2Get(quint32 stream, const QByteArray &path, const QByteArray &lastEventId = {})
{
    QByteArray block("\x82\x86\x41\x01\x61", 5); // :method GET, :scheme http, :authority a
    block.append('\x04').append(static_cast<char>(path.size())).append(path);
    if (!lastEventId.isNull())
        block.append(QByteArray("\x00\x0dlast-event-id", 15)).append(static_cast<char>(lastEventId.size())).append(lastEventId);
    return h2Frame(0x1, 0x5, stream, block);
}

} // namespace edgesse::testing
