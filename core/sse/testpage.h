#pragma once

#include <QByteArray>

namespace edgesse::sse {

// The test page every node serves at / and /client.html: `?streams=N&path=/events` opens N
// EventSources to `path` on the page's origin (or to `url=` on another one, with
// `credentials=1` for withCredentials) and shows, live, each stream's readyState, time to
// first event, events and reconnects. The same figures are kept as JSON in
// <pre id="summary"> and in window.edgesse, and with `report=URL` sent every 200 ms as
// GET URL?summary=JSON (SseServer keeps the latest: lastReport()).
const QByteArray &testPage();

} // namespace edgesse::sse
