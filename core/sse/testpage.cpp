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
const report = q.get("report");
const t0 = performance.now();
const states = ["CONNECTING", "OPEN", "CLOSED"];
const streams = [];
document.getElementById("where").textContent =
  n + " EventSource(s) to " + target.href + (withCredentials ? " (withCredentials)" : "");
const rows = document.getElementById("rows");
for (let i = 0; i < n; ++i) {
  const s = {i, es: null, firstEventMs: null, events: 0, reconnects: 0, lastId: "", opens: 0, errors: 0};
  const tr = rows.insertRow();
  for (let c = 0; c < 6; ++c) tr.insertCell();
  s.row = tr;
  s.es = new EventSource(target.href, {withCredentials});
  s.es.onopen = () => { s.opens++; if (s.opens > 1) s.reconnects++; };
  s.es.onerror = () => { s.errors++; };
  s.es.onmessage = (e) => {
    if (s.firstEventMs === null) s.firstEventMs = performance.now() - t0;
    s.events++;
    s.lastId = e.lastEventId;
  };
  streams.push(s);
}
function render() {
  const summary = streams.map((s) => ({stream: s.i, readyState: s.es.readyState,
    firstEventMs: s.firstEventMs === null ? null : Math.round(s.firstEventMs * 10) / 10,
    events: s.events, reconnects: s.reconnects, errors: s.errors, lastId: s.lastId}));
  for (const s of streams) {
    const c = s.row.cells, st = s.es.readyState;
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
// connections.
if (report) {
  setInterval(() => {
    fetch(report + "?summary=" + encodeURIComponent(JSON.stringify(window.edgesse)), {cache: "no-store"})
      .catch(() => {});
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
