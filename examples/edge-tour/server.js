// The edge tour's app, dependency-free: `node server.js` serves HTTP on $PORT (and WebSockets on
// any path), `node server.js tcp` echoes lines over plain TCP. Each answer names the instance, so
// what the edge did (balancing, affinity, draining) shows in the output.
import { createHash } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';

const port = Number(process.env.PORT ?? 8080);
const instance = process.env.BERTH_INSTANCE ?? 'local';
const service = process.env.BERTH_SERVICE ?? 'tour';

/** One WebSocket text frame from the server (unmasked), for payloads under 126 bytes. */
const textFrame = (text) => {
  const payload = Buffer.from(text);
  return Buffer.concat([Buffer.from([0x81, payload.length]), payload]);
};

/** Text frames from a client (masked, under 126 bytes each); the rest of the bytes wait for more. */
function* clientTexts(buffer) {
  let at = 0;
  while (buffer.length - at >= 6) {
    const length = buffer[at + 1] & 0x7f;
    if (length >= 126 || buffer.length - at < 6 + length) break;
    const mask = buffer.subarray(at + 2, at + 6);
    const payload = Buffer.from(buffer.subarray(at + 6, at + 6 + length).map((byte, i) => byte ^ mask[i % 4]));
    yield { opcode: buffer[at] & 0x0f, text: payload.toString() };
    at += 6 + length;
  }
  return at;
}

function serveHttp() {
  const server = createHttpServer((req, res) => {
    if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    // who the edge says the client is, and how it came: X-Forwarded-For's last address, -Proto, -Port
    if (req.url === '/whoami') {
      const client = String(req.headers['x-forwarded-for'] ?? '').split(',').pop().trim();
      return void res.writeHead(200, { 'content-type': 'text/plain' }).end(`${service}: instance=${instance} client=${client} proto=${req.headers['x-forwarded-proto']} port=${req.headers['x-forwarded-port']}\n`);
    }
    // hangs up without answering, as a crashing handler would: the edge answers 502
    if (req.url === '/crash') return void req.socket.destroy();
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`${service}: instance=${instance}\n`);
  });
  server.on('upgrade', (req, socket, head) => {
    const key = req.headers['sec-websocket-key'];
    if (req.headers.upgrade?.toLowerCase() !== 'websocket' || typeof key !== 'string') return void socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(textFrame(`welcome to ${service}, instance=${instance}`));
    // bytes the client sent right behind its handshake arrive in `head`
    let pending = Buffer.alloc(0);
    const received = (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      const frames = clientTexts(pending);
      for (let next = frames.next(); ; next = frames.next()) {
        if (next.done) {
          pending = pending.subarray(next.value);
          break;
        }
        if (next.value.opcode === 0x8) return void socket.end(Buffer.from([0x88, 0]));
        if (next.value.opcode === 0x1) socket.write(textFrame(`echo: ${next.value.text}`));
      }
    };
    socket.on('data', received);
    if (head.length > 0) received(head);
    socket.on('error', () => {});
  });
  server.listen(port, () => console.log(`${service} listening on :${port} (instance=${instance})`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

function serveTcp() {
  const server = createTcpServer((socket) => {
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        socket.write(`${service} instance=${instance}: ${pending.slice(0, newline)}\n`);
        pending = pending.slice(newline + 1);
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => {});
  });
  server.listen(port, () => console.log(`${service} (tcp) listening on :${port} (instance=${instance})`));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (process.argv[2] === 'tcp') serveTcp();
else serveHttp();
