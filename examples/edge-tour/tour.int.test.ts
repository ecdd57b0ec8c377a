// The README's edge tour, run for real: `berth up` on this directory's berth.yaml (its TCP port
// swapped for a free one), then what the README shows — balancing, cookie affinity, 502 and 503
// bodies, a service woken from zero, a TCP route and a WebSocket through the edge.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/agent/port-allocator.js';
import { BerthUp, buildBerth, until } from '../../src/cli/berth-up.fixture.js';

const here = fileURLToPath(new URL('.', import.meta.url));

/** One request through the edge with its headers, so the test reads what curl -i shows. */
function get(port: number, host: string, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers: { host, ...headers }, agent: false, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** Lines sent over one TCP connection, half-closed after; everything the other side said. */
function tcpExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** A WebSocket handshake for chat.localhost and one masked text frame; the texts that came back. */
function webSocketExchange(port: number, text: string): Promise<{ head: string; texts: string[] }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: chat.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n');
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from(text).map((byte, i) => byte ^ mask[i % 4]!);
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
    let bytes = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      const headEnd = bytes.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const texts: string[] = [];
      let at = headEnd + 4;
      while (bytes.length - at >= 2 && bytes.length - at >= 2 + bytes[at + 1]!) {
        texts.push(bytes.subarray(at + 2, at + 2 + bytes[at + 1]!).toString());
        at += 2 + bytes[at + 1]!;
      }
      if (texts.length === 2) {
        socket.destroy();
        resolve({ head: bytes.subarray(0, headEnd).toString(), texts });
      }
    });
    socket.on('error', reject);
    socket.setTimeout(20_000, () => socket.destroy(new Error('no echo over the WebSocket')));
  });
}

describe('the edge tour (examples/edge-tour), end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-edge-tour-'));
  const box = new BerthUp(dir);
  let tcpPort = 0;

  beforeAll(async () => {
    await buildBerth();
    cpSync(here, box.app, { recursive: true, filter: (path) => !path.endsWith('.test.ts') });
    tcpPort = await freePort();
    const yaml = readFileSync(join(box.app, 'berth.yaml'), 'utf8');
    expect(yaml).toContain('tcp: { port: 15000 }');
    writeFileSync(join(box.app, 'berth.yaml'), yaml.replace('tcp: { port: 15000 }', `tcp: { port: ${tcpPort} }`));
    await box.start(['-f', 'berth.yaml'], box.app);
  }, 180_000);

  afterAll(async () => {
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spreads new clients over the three shop instances, and keeps a client with the cookie on one', async () => {
    const spread = new Set<string>();
    for (let i = 0; i < 30; i++) spread.add((await get(box.edgePort, 'shop.localhost')).body.trim());
    expect(spread.size).toBe(3);

    const first = await get(box.edgePort, 'shop.localhost');
    const cookie = first.headers['set-cookie']?.find((c) => c.startsWith('berth_affinity='));
    expect(cookie).toMatch(/^berth_affinity=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    const sticky = new Set<string>([first.body.trim()]);
    for (let i = 0; i < 20; i++) sticky.add((await get(box.edgePort, 'shop.localhost', '/', { cookie: cookie!.split(';')[0]! })).body.trim());
    expect(sticky.size).toBe(1);
  });

  it('answers 502 with a short body when an instance hangs up before answering', async () => {
    const crashed = await get(box.edgePort, 'shop.localhost', '/crash');
    expect(crashed.status).toBe(502);
    expect(crashed.body).toMatch(/^berth edge: service shop: instance shop-\S+ closed the connection before answering\n$/);
  });

  it('serves a request for a service at zero once an instance of it is ready', async () => {
    expect((await box.service('lazy')).instances).toHaveLength(0);
    const woken = await get(box.edgePort, 'lazy.localhost');
    expect(woken.status).toBe(200);
    expect(woken.body).toMatch(/^lazy: instance=lazy-\S+\n$/);
  });

  it('forwards TCP connections on the route port to both echo instances', async () => {
    expect(box.log).toContain(`    echo: tcp 127.0.0.1:${tcpPort}\n`);
    const answers = new Set<string>();
    await until('both echo instances answering over TCP', async () => {
      const answer = await tcpExchange(tcpPort, 'hello\n');
      expect(answer).toMatch(/^echo instance=echo-\S+: hello\n$/);
      answers.add(answer);
      return answers.size === 2 ? true : undefined;
    });
  });

  it('passes a WebSocket through: the 101, then frames both ways', async () => {
    const { head, texts } = await webSocketExchange(box.edgePort, 'hi');
    expect(head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(texts[0]).toMatch(/^welcome to chat, instance=chat-\S+$/);
    expect(texts[1]).toBe('echo: hi');
  });

  it('answers 503 with Retry-After once a service has no ready instance', async () => {
    const scaled = await box.berth(['scale', 'chat', '0']);
    expect('failed' in scaled ? scaled.stderr : '').toBe('');
    const refused = await until('chat to have no instance', async () => {
      const answer = await get(box.edgePort, 'chat.localhost');
      return answer.status === 503 ? answer : undefined;
    });
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toBe('berth edge: service chat has no ready instance\n');
  });
});
