// The API on a Node HTTP server. Closing stops accepting, ends idle keep-alive connections and
// waits for requests in flight (long-polls are released by the control plane before this).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { ApiEnv } from './api-env.js';
import type { ListenAddress } from './listen-address.js';

const CLOSE_GRACE_MS = 2_000;

export interface ServedApi {
  /** http://host:port, the port resolved when 0 was asked */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The API's listener could not bind: a port in use or not permitted, an address this machine
 * does not have, a host that does not resolve. `cause.code` is Node's errno code; the command
 * that started the API names its own flag (see src/cli/listen-failure.ts).
 */
export class ApiListenError extends Error {
  constructor(
    readonly address: ListenAddress,
    override readonly cause: NodeJS.ErrnoException,
  ) {
    super(`API ${address.host}:${address.port}: ${cause.message}`);
    this.name = 'ApiListenError';
  }
}

export function serveApi(app: Hono<ApiEnv>, listen: ListenAddress): Promise<ServedApi> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: listen.host, port: listen.port }) as Server;
    const failed = (error: NodeJS.ErrnoException): void => reject(new ApiListenError(listen, error));
    server.once('error', failed);
    server.once('listening', () => {
      server.off('error', failed);
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
            // Agents and edges keep connections alive and reuse them every few seconds, so a
            // connection may never go idle for long: after a grace for requests in flight, end them all.
            setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
          }),
      });
    });
  });
}
