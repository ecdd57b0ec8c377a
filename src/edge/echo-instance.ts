// A service instance for the edge's tests: answers with its id, the request it saw and, on
// request, slowly, with an error or with a big or chunked body; accepts WebSocket-style upgrades.
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

export interface EchoInstance {
  readonly id: string;
  readonly port: number;
  readonly server: http.Server;
  /** requests it answered */
  served: number;
  close(): Promise<void>;
}

export interface EchoAnswer {
  instance: string;
  /** the edge's side of the connection the request came on */
  remotePort: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export async function startEchoInstance(id: string, port = 0): Promise<EchoInstance> {
  const instance: EchoInstance = {
    id,
    port: 0,
    server: http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        instance.served++;
        const url = new URL(req.url ?? '/', 'http://instance');
        const answer = (): void => {
          const size = Number(url.searchParams.get('size') ?? '0');
          if (size > 0) {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
            res.end(patternBytes(size));
            return;
          }
          const status = Number(url.searchParams.get('status') ?? '200');
          const text = JSON.stringify({ instance: id, remotePort: req.socket.remotePort ?? 0, method: req.method ?? '', url: req.url ?? '', headers: req.headers, body } satisfies EchoAnswer);
          if (url.searchParams.has('chunked')) {
            res.writeHead(status, { 'content-type': 'application/json' });
            res.write(text.slice(0, 10));
            setImmediate(() => res.end(text.slice(10)));
            return;
          }
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-instance': id });
          res.end(req.method === 'HEAD' ? undefined : text);
        };
        const delay = Number(url.searchParams.get('delay') ?? '0');
        if (delay > 0) setTimeout(answer, delay);
        else answer();
      });
    }),
    served: 0,
    close: async () => {
      instance.server.closeAllConnections();
      await new Promise<void>((resolve) => instance.server.close(() => resolve()));
    },
  };
  instance.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    // ?welcome=TEXT: the server speaks first, in the same write as its 101 (as WebSocket servers'
    // greetings and engine.io's open packet often arrive)
    const welcome = new URL(req.url ?? '/', 'http://instance').searchParams.get('welcome') ?? '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade ?? 'echo'}\r\nConnection: Upgrade\r\nX-Instance: ${id}\r\n\r\n${welcome}`);
    if (head.length > 0) socket.write(head);
    // echo whatever comes after the switch
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => instance.server.listen(port, '127.0.0.1', resolve));
  (instance as { port: number }).port = (instance.server.address() as net.AddressInfo).port;
  return instance;
}

/** Deterministic bytes that differ at every offset, so a reordered or reused buffer shows. */
export function patternBytes(size: number): Buffer {
  const bytes = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 0xff;
  return bytes;
}

export interface EdgeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to the edge with a given Host header (fetch does not let a test set Host). */
export function edgeRequest(
  port: number,
  host: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent } = {},
): Promise<EdgeResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { host, ...options.headers }, agent: options.agent ?? false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/**
 * A listener whose accept queue is full and never drained (its process is stopped): the kernel
 * drops further SYNs, so a connect to it hangs, as to a host that drops packets.
 */
export async function blackHole(): Promise<{ port: number; close: () => void }> {
  const script = "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  child.kill('SIGSTOP');
  const fillers = [0, 1, 2, 3].map(() => net.connect(port, '127.0.0.1').on('error', () => {}));
  return {
    port,
    close: () => {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}
