// Hands out the $PORT of an instance: a port the kernel reports free (bind :0 on 127.0.0.1),
// never one this agent already gave to a live instance. The kernel may hand the same port to
// someone else between our close and the app's bind; the window is short and a crash of the
// app on EADDRINUSE is retried by the restart policy with the same port.
import { createServer } from 'node:net';

export class PortAllocator {
  readonly #held = new Set<number>();

  constructor(private readonly host = '127.0.0.1') {}

  async allocate(): Promise<number> {
    for (let attempt = 0; attempt < 16; attempt++) {
      const port = await freePort(this.host);
      if (!this.#held.has(port)) {
        this.#held.add(port);
        return port;
      }
    }
    throw new Error(`no free port on ${this.host} after 16 attempts; every port offered was already held by an instance`);
  }

  /** Marks a port as taken, e.g. by an instance adopted after an agent restart. */
  reserve(port: number): void {
    this.#held.add(port);
  }

  release(port: number): void {
    this.#held.delete(port);
  }
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error(`could not read the port bound on ${host}`))));
    });
  });
}
