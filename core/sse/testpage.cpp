#include "core/sse/testpage.h"

namespace edgesse::sse {

namespace {

constexpr char kPage[] = R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>EdgeSSE test page</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}
.s0{color:#b26b00}.s1{color:#137333}.s2{color:#b3261e}
</style></head><body>
<h1>EdgeSSE test page</h1>
<p id="where"></p>
<table><thead><tr><th>stream</th><th>readyState</th><th>first event (ms)</th><th>events</th>
<th>reconnects</th><th>last id</th></tr></thead><tbody id="rows"></tbody></table>
<pre id="summary">{}</pre>
<script>
"use strict";
const q = new URLSearchParams(location.search);
const n = Math.max(1, Math.min(64, parseInt(q.get("streams") || "8", 10) || 8));
const target = new URL(q.get("url") || q.get("path") || "/events", location.href);
const withCredentials = q.get("credentials") === "1";
const fetchClient = q.get("client") === "fetch";
const report = q.get("report");
const keepEvents = q.get("events") === "1";
// `start=MS` opens the streams that long after the page ran (a freshly launched browser
// settles first). A stream's time to first event counts from its own `new EventSource` (or
// its first fetch), as the engine counts a simulated stream's from its own open.
const startDelay = Math.max(0, parseInt(q.get("start") || "0", 10) || 0);
const epochMs = () => performance.timeOrigin + performance.now();
const states = ["CONNECTING", "OPEN", "CLOSED"];
const streams = [];
const received = []; // [stream, id, epoch ms] for every event, with events=1
document.getElementById("where").textContent = n + (fetchClient ? " fetch client(s) to " : " EventSource(s) to ") +
  target.href + (withCredentials ? " (withCredentials)" : "");
const rows = document.getElementById("rows");
function onEvent(s, id) {
  const now = performance.now();
  if (s.firstEventMs === null) s.firstEventMs = now - s.t0;
  s.events++;
  s.lastId = id;
  if (keepEvents) received.push([s.i, id, performance.timeOrigin + now]);
}
// A stream's first reconnect, timed from the end of its stream (as the page hears of it) to
// the next response.
function ended(s) {
  if (s.opens > 0 && s.endedAt === null) s.endedAt = performance.now();
}
function reconnected(s) {
  s.reconnects++;
  if (s.reconnectMs === null && s.endedAt !== null) s.reconnectMs = performance.now() - s.endedAt;
}
// What fetch-event-source style libraries do: fetch(), parse the stream, send
// Last-Event-ID as a header (so a cross-origin request is preflighted), reconnect after
// the server's retry (1 s until it sends one) whatever ended the response.
function fetchStream(s) {
  s.es = {readyState: 0};
  let retry = 1000;
  const connect = async () => {
    s.es.readyState = 0;
    const headers = {"Accept": "text/event-stream"};
    if (s.lastId !== "") headers["Last-Event-ID"] = s.lastId;
    try {
      const r = await fetch(target.href, {headers, cache: "no-store",
                                          credentials: withCredentials ? "include" : "same-origin"});
      if (r.status !== 200) throw new Error("HTTP " + r.status);
      s.es.readyState = 1; s.opens++; if (s.opens > 1) reconnected(s);
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "", data = null, id = null;
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + (buffer.startsWith("\r\n", nl) ? 2 : 1));
          if (line === "") {
            if (id !== null) s.lastId = id;
            if (data !== null) onEvent(s, s.lastId);
            data = null; id = null;
            continue;
          }
          const c = line.indexOf(":");
          if (c === 0) continue;
          const field = c < 0 ? line : line.slice(0, c);
          let v = c < 0 ? "" : line.slice(c + 1);
          if (v.startsWith(" ")) v = v.slice(1);
          if (field === "data") data = data === null ? v : data + "\n" + v;
          else if (field === "id" && !v.includes("\0")) id = v;
          else if (field === "retry" && /^[0-9]+$/.test(v)) retry = parseInt(v, 10);
        }
      }
    } catch (e) {
      s.errors++;
    }
    if (s.es.readyState === 1) ended(s);
    s.es.readyState = 0;
    setTimeout(connect, retry);
  };
  s.lastId = q.get("lastEventId") || "";
  connect();
}
// The streams' rows exist before they open, so opening them touches no layout.
for (let i = 0; i < n; ++i) {
  const s = {i, es: null, t0: 0, endedAt: null, reconnectMs: null, firstEventMs: null, events: 0, reconnects: 0, lastId: "", opens: 0, errors: 0};
  const tr = rows.insertRow();
  for (let c = 0; c < 6; ++c) tr.insertCell();
  s.row = tr;
  streams.push(s);
}
function openStreams() {
  for (const s of streams) {
    s.t0 = performance.now();
    if (fetchClient) {
      fetchStream(s);
      continue;
    }
    s.es = new EventSource(target.href, {withCredentials});
    s.es.onopen = () => { s.opens++; if (s.opens > 1) reconnected(s); };
    s.es.onerror = () => { s.errors++; if (s.es.readyState === 0) ended(s); };
    s.es.onmessage = (e) => onEvent(s, e.lastEventId);
  }
}
// `warm=URL` opens one EventSource there and closes it once it opened (or failed) before the
// streams start: the first request of a freshly launched browser pays for code paths nobody
// ran yet, in the page and in the network service, which is the browser starting, not the
// network — so it is left out of the times to first event.
const warm = q.get("warm");
if (warm) {
  const w = new EventSource(warm);
  w.onopen = w.onerror = () => w.close();
}
if (startDelay > 0) setTimeout(openStreams, startDelay); else openStreams();
function render() {
  const summary = streams.map((s) => ({stream: s.i, readyState: s.es ? s.es.readyState : 0,
    firstEventMs: s.firstEventMs === null ? null : Math.round(s.firstEventMs * 10) / 10,
    reconnectMs: s.reconnectMs === null ? null : Math.round(s.reconnectMs * 10) / 10,
    events: s.events, reconnects: s.reconnects, errors: s.errors, lastId: s.lastId,
    opens: s.opens}));
  for (const s of streams) {
    const c = s.row.cells, st = s.es ? s.es.readyState : 0;
    c[0].textContent = s.i;
    c[1].textContent = states[st]; c[1].className = "s" + st;
    c[2].textContent = s.firstEventMs === null ? "-" : s.firstEventMs.toFixed(1);
    c[3].textContent = s.events; c[4].textContent = s.reconnects; c[5].textContent = s.lastId;
  }
  window.edgesse = summary;
  document.getElementById("summary").textContent = JSON.stringify(summary);
}
setInterval(render, 100);
render();
// Reports go to another origin (`report=URL`), so they never take one of the page's own
// connections. With events=1 each report also carries the events received since the last
// one that got through, and the first reports carry clock pings (the page's epoch time)
// for mapping its clock onto the receiver's.
if (report) {
  let sent = 0, pings = 0, busy = false;
  setInterval(() => {
    if (busy) return;
    busy = true;
    const upto = Math.min(received.length, sent + 5000);
    let url = report + "?summary=" + encodeURIComponent(JSON.stringify(window.edgesse));
    if (keepEvents) url += "&events=" + encodeURIComponent(JSON.stringify(received.slice(sent, upto)));
    if (pings < 20) { pings++; url += "&ping=" + epochMs().toFixed(3); }
    fetch(url, {cache: "no-store"}).then(() => { sent = upto; }).catch(() => {}).finally(() => { busy = false; });
  }, 200);
}
</script></body></html>
)html";

} // namespace

const QByteArray &testPage()
{
    static const QByteArray page = QByteArray::fromRawData(kPage, sizeof kPage - 1);
    return page;
}

} // namespace edgesse::sse
