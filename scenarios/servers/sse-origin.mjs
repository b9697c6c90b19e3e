// A reference SSE origin on Node's own http module, as a team would write one: the server
// the bundled your-own-stack scenario starts, and a model for bringing your own.
//
//   node sse-origin.mjs --port P [--rate N] [--payload BYTES] [--heartbeat MS] [--retry MS]
//                       [--replay N] [--max-streams N] [--host H]
//
//   GET  /events   text/event-stream, Cache-Control: no-cache, headers sent at once. Each
//                  event: `id: <n>` (1, 2, 3, ...), `data: <payload>`. With --replay N the
//                  last N events are kept and a request with Last-Event-ID gets those after
//                  it first; --replay 0 ignores Last-Event-ID. --heartbeat MS writes a
//                  `: heartbeat` comment after MS without a write; --retry MS sends `retry:`.
//                  Beyond --max-streams open streams: 503 with Retry-After: 1.
//   POST /publish  publishes the request body as one event (each line a data line); 204.
//   GET  /health   200 "ok".
// --rate N publishes N events/s by itself (0, the default, publishes only what is POSTed).
// Prints "listening on port P" once it accepts connections; exits on SIGTERM or SIGINT.
import http from 'node:http';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = Number(option('--port', NaN));
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  process.stderr.write('sse-origin: --port P is required (1..65535)\n');
  process.exit(2);
}
const host = option('--host', '127.0.0.1');
const rate = Number(option('--rate', 0));
const payload = 'x'.repeat(Number(option('--payload', 64)));
const heartbeatMs = Number(option('--heartbeat', 0));
const retryMs = Number(option('--retry', 0));
const replay = Number(option('--replay', 1000));
const maxStreams = Number(option('--max-streams', 0));

const streams = new Set();
const kept = []; // [{id, text}], the last `replay` events
let nextId = 1;

function encode(id, data) {
  return `id: ${id}\n` + String(data).split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('') + '\n';
}

function write(stream, text) {
  stream.res.write(text);
  stream.lastWrite = Date.now();
}

function publish(data) {
  const id = nextId++;
  const text = encode(id, data);
  if (replay > 0) {
    kept.push({ id, text });
    if (kept.length > replay)
      kept.shift();
  }
  for (const stream of streams)
    write(stream, text);
}

function openStream(req, res) {
  if (maxStreams > 0 && streams.size >= maxStreams) {
    res.writeHead(503, { 'retry-after': '1', 'content-type': 'text/plain' });
    res.end('too many streams\n');
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  res.flushHeaders();
  const stream = { res, lastWrite: Date.now() };
  if (retryMs > 0)
    write(stream, `retry: ${retryMs}\n\n`);
  const last = Number(req.headers['last-event-id']);
  if (replay > 0 && Number.isInteger(last)) {
    for (const event of kept) {
      if (event.id > last)
        write(stream, event.text);
    }
  }
  streams.add(stream);
  const forget = () => streams.delete(stream);
  res.on('close', forget);
  res.on('error', forget);
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, 'http://origin').pathname;
  if (req.method === 'GET' && path === '/events') {
    openStream(req, res);
  } else if (req.method === 'POST' && path === '/publish') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      publish(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(204).end();
    });
  } else if (path === '/health') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else {
    res.writeHead(404).end();
  }
});
server.keepAliveTimeout = 60_000;
server.requestTimeout = 0;

if (heartbeatMs > 0) {
  setInterval(() => {
    const now = Date.now();
    for (const stream of streams) {
      if (now - stream.lastWrite >= heartbeatMs)
        write(stream, ': heartbeat\n');
    }
  }, Math.max(10, Math.floor(heartbeatMs / 4)));
}
if (rate > 0)
  setInterval(() => publish(payload), 1000 / rate);

server.listen(port, host, () => process.stdout.write(`listening on port ${port}\n`));
const quit = () => {
  for (const stream of streams)
    stream.res.end();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', quit);
process.on('SIGINT', quit);
