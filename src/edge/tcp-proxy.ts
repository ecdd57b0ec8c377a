// TCP (L4) routes: a listener per route port; each connection is balanced to an instance and
// piped. Nothing marks message boundaries here, so a leaving instance keeps its connections
// until they close or its grace period ends, then they are cut.
import net from 'node:net';
import { clientAddress } from './forwarded-headers.js';
import type { InstanceAttachment } from './routed-instance.js';
import type { Routing } from './routing.js';
import { keepChunk } from './socket-reads.js';
import type { UpstreamPool } from './upstream-pool.js';

class TcpPipe implements InstanceAttachment {
  attachmentSlot = -1;
  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
  ) {}
  release(): void {}
  cut(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}

export class TcpProxy {
  private readonly listeners = new Map<number, net.Server>();

  constructor(
    private readonly routing: Routing,
    private readonly pool: UpstreamPool,
    private readonly host: string,
    private readonly idleMs: number,
  ) {}

  /** Opens listeners for new route ports and closes those of ports no longer routed. */
  async sync(): Promise<void> {
    const wanted = new Set(this.routing.tcpPorts());
    for (const [port, server] of this.listeners) {
      if (wanted.has(port)) continue;
      this.listeners.delete(port);
      server.close();
    }
    for (const port of wanted) {
      if (this.listeners.has(port)) continue;
      const server = net.createServer({ noDelay: true, pauseOnConnect: true }, (socket) => this.accept(port, socket));
      this.listeners.set(port, server);
      await new Promise<void>((resolve) => {
        server.once('error', (error) => {
          process.stderr.write(`berth edge: tcp route port ${port}: ${error.message}; pick another port for the route\n`);
          this.listeners.delete(port);
          resolve();
        });
        server.listen(port, this.host, () => resolve());
      });
    }
  }

  private accept(port: number, client: net.Socket): void {
    client.on('error', () => {});
    const service = this.routing.tcpService(port);
    if (service === undefined) {
      client.destroy();
      return;
    }
    const key = service.config.affinity?.type === 'ip' ? clientAddress(client.remoteAddress) : undefined;
    void Promise.resolve(service.admit(key)).then((admission) => {
      if (!admission.ok || client.destroyed) {
        if (admission.ok) service.detach(admission.instance);
        client.destroy();
        return;
      }
      const instance = admission.instance;
      const upstream = this.pool.connect(instance, {
        onUpstreamConnect: () => {
          client.pipe(upstream.socket);
          client.resume();
        },
        onUpstreamData: (chunk) => {
          const flushed = client.write(chunk);
          if (client.writableLength > 0) keepChunk();
          if (!flushed) upstream.socket.pause();
        },
        onUpstreamEnd: () => client.end(),
        onUpstreamDrain: () => {},
        onUpstreamClose: () => {
          if (!upstream.connected) {
            instance.failures++;
            service.failed(instance);
          }
          client.destroy();
        },
      });
      client.on('drain', () => upstream.socket.resume());
      const pipe = new TcpPipe(client, upstream.socket);
      instance.attachments.add(pipe);
      client.setTimeout(this.idleMs, () => client.destroy());
      client.once('close', () => {
        upstream.destroy();
        instance.attachments.delete(pipe);
        service.detach(instance);
      });
    });
  }

  close(): void {
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
  }
}
