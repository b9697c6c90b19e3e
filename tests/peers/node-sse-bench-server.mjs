// The reference a team would otherwise write: an SSE fan-out server on Node's own http
// (HTTP/1.1) and http2 (h2c, prior knowledge) modules, for bench_sse_fanout.
//
//   node node-sse-bench-server.mjs [--payload BYTES] [--watermark BYTES] [--max-streams N]
//
// Prints "h1 PORT" and "h2 PORT" (both on 127.0.0.1, port 0 = any free one), then reads
// commands on stdin, one a line:
//   rate N    publish N events/s (0 stops) to every open /events stream
//   mode M    `batch` (default): the events due in a tick are written together;
//             `strict`: each event is written (to every stream) on its own
//   stats     prints "stats published=P streams=S batches=B rss=BYTES" (B: ticks that published)
//   quit
// Publishing follows the same rule as the benchmark's publisher for our server: every
// millisecond, publish the events due at the offered rate, unless more than `watermark`
// bytes are still queued in the streams' buffers (then this tick publishes nothing).
import http from 'node:http';
import http2 from 'node:http2';
import readline from 'node:readline';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const payload = 'x'.repeat(option('--payload', 256));
const watermark = option('--watermark', 8 * 1024 * 1024);
const maxStreams = option('--max-streams', 100);

const streams = new Set();
const headers = { 'content-type': 'text/event-stream', 'cache-control': 'no-store' };

const h1 = http.createServer((req, res) => {
  if (!req.url.startsWith('/events')) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, headers);
  res.flushHeaders();
  streams.add(res);
  res.on('close', () => streams.delete(res));
  res.on('error', () => streams.delete(res));
});
h1.keepAliveTimeout = 0;
h1.requestTimeout = 0;
h1.headersTimeout = 10000;

const h2 = http2.createServer({ settings: { maxConcurrentStreams: maxStreams } });
h2.on('stream', (stream, requestHeaders) => {
  if (!String(requestHeaders[':path']).startsWith('/events')) {
    stream.respond({ ':status': 404 }, { endStream: true });
    return;
  }
  stream.respond({ ':status': 200, ...headers });
  streams.add(stream);
  stream.on('close', () => streams.delete(stream));
  stream.on('error', () => streams.delete(stream));
});
h2.on('sessionError', () => {});

let rate = 0;
let seq = 0;
let published = 0;
let batches = 0;
let started = 0n;
let due = 0;

function queuedBytes() {
  let total = 0;
  for (const s of streams) total += s.writableLength;
  return total;
}

let strict = false;
let pending = 0; // strict mode: events of the current tick still to write

function publishOne() {
  ++seq;
  const event = `id: ${seq}\ndata: ${payload}\n\n`;
  for (const s of streams) s.write(event);
  ++published;
}

setInterval(() => {
  // Still writing the previous tick's events: the due ones wait for the next tick.
  if (rate <= 0 || pending > 0) return;
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  const target = Math.floor(elapsed * rate);
  if (target <= due) return;
  const n = target - due;
  due = target;
  if (queuedBytes() > watermark) return;
  if (!strict) {
    // All due events in this tick: http corks each socket until the tick ends, so they
    // leave in one write per stream.
    for (let i = 0; i < n; ++i) publishOne();
    ++batches;
    return;
  }
  // One event per macrotask: each event's writes are uncorked (sent) before the next one.
  pending = n;
  const step = () => {
    publishOne();
    ++batches;
    if (--pending > 0) setImmediate(step);
  };
  step();
}, 1);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
const [p1, p2] = await Promise.all([listen(h1), listen(h2)]);
process.stdout.write(`h1 ${p1}\nh2 ${p2}\n`);

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, value] = line.trim().split(/\s+/);
  if (command === 'rate') {
    rate = Number(value);
    started = process.hrtime.bigint();
    due = 0;
  } else if (command === 'mode') {
    strict = value === 'strict';
  } else if (command === 'stats') {
    process.stdout.write(`stats published=${published} streams=${streams.size} batches=${batches} rss=${process.memoryUsage().rss}\n`);
  } else if (command === 'quit') {
    process.exit(0);
  }
}).on('close', () => process.exit(0));
