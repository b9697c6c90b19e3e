// A small SSE server written with Node's own http / http2 modules: a peer that is not
// EdgeSSE, for interoperability tests of the EdgeSSE client.
//
//   node node-sse-server.mjs [--h2] [--max-streams N]
//
// Listens on 127.0.0.1, port 0, and prints "PORT <n>" on stdout. --h2 serves h2c with prior
// knowledge (http2.createServer), otherwise HTTP/1.1 (chunked responses).
//
//   GET /events?count=N&interval=MS&close-after=K&retry=MS&start=S
//       text/event-stream; ids continue after Last-Event-ID (or start at S, default 1);
//       `close-after` ends the response after K events (a forced reconnect), `count` ends
//       the whole sequence (later requests get 204 once it is exhausted); with --h2,
//       `goaway-after=K` sends GOAWAY on the connection after K events and ends the stream.
//   GET /status/CODE       that status, no body
//   GET /wrong-type        200 with text/plain
//   GET /log               JSON: the Last-Event-ID header of every /events request so far
import http from 'node:http';
import http2 from 'node:http2';

const args = process.argv.slice(2);
const useH2 = args.includes('--h2');
const maxStreamsAt = args.indexOf('--max-streams');
const maxStreams = maxStreamsAt >= 0 ? Number(args[maxStreamsAt + 1]) : 100;

const log = [];
let openStreams = 0;

function handle(req, res) {
  const url = new URL(req.url, 'http://peer');
  if (url.pathname === '/log') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ lastEventIds: log, openStreams }));
    return;
  }
  if (url.pathname.startsWith('/status/')) {
    res.writeHead(Number(url.pathname.slice(8)));
    res.end();
    return;
  }
  if (url.pathname === '/wrong-type') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('data: not an event stream\n\n');
    return;
  }
  if (url.pathname !== '/events') {
    res.writeHead(404);
    res.end();
    return;
  }
  const lastId = req.headers['last-event-id'];
  log.push(lastId ?? null);
  const count = Number(url.searchParams.get('count') ?? 0);        // 0: endless
  const interval = Number(url.searchParams.get('interval') ?? 10);
  const closeAfter = Number(url.searchParams.get('close-after') ?? 0);
  const retry = url.searchParams.get('retry');
  const goawayAfter = Number(url.searchParams.get('goaway-after') ?? 0); // HTTP/2 only
  let next = lastId !== undefined ? Number(lastId) + 1 : Number(url.searchParams.get('start') ?? 1);
  if (count > 0 && next > count) {
    res.writeHead(204);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  openStreams++;
  res.write(': welcome\n' + (retry ? `retry: ${retry}\n` : '') + '\n');
  let sent = 0;
  const timer = setInterval(() => {
    res.write(`id: ${next}\nevent: tick\ndata: event ${next}\ndata: second line\n\n`);
    next++;
    sent++;
    if (goawayAfter > 0 && sent >= goawayAfter && req.stream) {
      clearInterval(timer);
      req.stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR);
      res.end();
      return;
    }
    if ((closeAfter > 0 && sent >= closeAfter) || (count > 0 && next > count)) {
      clearInterval(timer);
      res.end();
    }
  }, interval);
  const stop = () => { clearInterval(timer); openStreams--; };
  res.on('close', stop);
}

const server = useH2
  ? http2.createServer({ settings: { maxConcurrentStreams: maxStreams } }, handle)
  : http.createServer(handle);
if (!useH2)
  server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
