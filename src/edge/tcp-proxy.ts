// TCP (L4) routes: a listener per route port; each connection is balanced to an instance and
// piped. Nothing marks message boundaries here, so a leaving instance keeps its connections
// until they close or its grace period ends, then they are cut. A route with `proxyProtocol`
// opens each instance connection with a PROXY header naming the client (HAProxy's send-proxy).
import net from 'node:net';
import type { ProxyProtocolVersion } from '../spec/route.js';
import { clientAddress } from './forwarded-headers.js';
import { recordSuccess } from './outlier-detection.js';
import { ProxyHeaderReader, writeProxyHeader, type ProxiedAddress } from './proxy-protocol.js';
import { DEFAULT_TCP_IDLE_MS } from './route-table.js';
import type { InstanceAttachment, RoutedInstance } from './routed-instance.js';
import type { Routing } from './routing.js';
import { MAX_READ_WHILE_QUEUED, type Admission, type ServiceInstances } from './service-instances.js';
import { keepChunk } from './socket-reads.js';
import type { TrustedProxies } from './trusted-proxies.js';
import { DEFAULT_CONNECT_MS, type UpstreamConnection, type UpstreamOwner, type UpstreamPool } from './upstream-pool.js';

/** The ends of a connection a trusted balancer's PROXY header named: the client, and the address it connected to. */
interface NamedEnds {
  readonly source: ProxiedAddress;
  readonly destination: ProxiedAddress | undefined;
}

/**
 * The PROXY header an instance connection opens with: the client and the address and port it
 * connected to, as a trusted balancer named them, else as the client's socket has them (its peer,
 * and the edge's address it reached). Undefined once the socket has lost its addresses (closed).
 */
function instanceHeader(version: ProxyProtocolVersion, client: net.Socket, named: NamedEnds | undefined): Buffer | undefined {
  const end = (address: string | undefined, port: number | undefined): ProxiedAddress | undefined =>
    address === undefined || port === undefined ? undefined : { address, port };
  const source = named?.source ?? end(client.remoteAddress, client.remotePort);
  const destination = named?.destination ?? end(client.localAddress, client.localPort);
  return source === undefined || destination === undefined ? undefined : writeProxyHeader(version, source, destination);
}

/** What the instance gets first: the PROXY header, sent with the first held chunk in one write. */
function withHeader(header: Buffer | undefined, held: Buffer[]): Buffer[] {
  if (header === undefined) return held;
  const [first, ...rest] = held;
  return first === undefined ? [header] : [Buffer.concat([header, first]), ...rest];
}

/**
 * A client waiting in the route's queue (at concurrency.hard everywhere). The edge reads it while
 * it waits, only to learn when it leaves: a client that hangs up frees its place at once, and no
 * instance connection is made for it. What it sends meanwhile is held, in order, and goes to the
 * instance before anything later. Past MAX_READ_WHILE_QUEUED the edge stops reading (TCP pushes back on
 * the client), so memory stays bounded; a client that leaves after that is noticed only once it
 * is served or its wait times out.
 *
 * A FIN is the hard case: a client that closes its socket and one that only shuts down its
 * sending side to wait for the answer (`nc -N`, a request then shutdown(SHUT_WR)) send the same
 * FIN, and nothing tells them apart without writing to the client, which the edge cannot do here.
 * A FIN after some bytes is taken as a half-close, as on an open connection (both sides allow
 * half-open): the client keeps its place, and once served its bytes then its FIN go to the
 * instance and the answer comes back. A FIN before any byte is taken as leaving: such a client
 * has asked nothing, so it most likely gave up (a banner grab of a server-speaks-first protocol,
 * `nc -N host port </dev/null`, is the exception, and is dropped). A reset is always leaving. So a
 * client that sent bytes and then closed still holds its place until served, when the first write
 * to it fails.
 */
class QueuedClient {
  readonly held: Buffer[] = [];
  private heldBytes = 0;
  private readonly onData = (chunk: Buffer): void => {
    // a plain socket's chunks are fresh buffers, not a SocketReads buffer: keeping them is safe
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= MAX_READ_WHILE_QUEUED) this.client.pause();
  };
  private readonly onEnd = (): void => {
    if (this.heldBytes === 0) this.leave();
  };
  private readonly leave = (): void => {
    this.client.destroy();
    this.leaving.abort();
  };

  /** `leaving` aborts when the client leaves, taking it out of the queue; `held`: what came before it was queued (after a PROXY header) */
  constructor(
    private readonly client: net.Socket,
    private readonly leaving: AbortController,
    held: Buffer[],
  ) {
    for (const chunk of held) this.onData(chunk);
    client.on('data', this.onData);
    client.once('end', this.onEnd);
    // a reset ('error', then 'close'), or the edge's own destroy
    client.once('close', this.leave);
    client.resume();
  }

  /** Served: the client goes back to unread until the instance's connection opens. */
  stop(): void {
    this.client.pause();
    this.client.off('data', this.onData);
    this.client.off('end', this.onEnd);
    this.client.off('close', this.leave);
  }
}

/**
 * One client connection piped to one instance. Each side's FIN is passed on as a FIN (both
 * sockets allow half-open connections), so a client that sends its request and shuts down its
 * side still gets the answer; the pipe closes once both sides have ended. A connect that fails
 * (refused, unreachable) is tried once more on another instance: what the client sent while
 * queued is still held, and nothing else of it has been read yet, so nothing is lost. With a
 * PROXY `header`, every instance connection opens with it, the retry's included.
 */
class TcpPipe implements InstanceAttachment, UpstreamOwner {
  attachmentSlot = -1;
  /** the instance the connection is counted against; undefined once uncounted */
  private instance: RoutedInstance | undefined;
  private upstream: UpstreamConnection;
  private retried = false;

  constructor(
    private readonly service: ServiceInstances,
    private readonly client: net.Socket,
    instance: RoutedInstance,
    private readonly pool: UpstreamPool,
    private readonly key: string | undefined,
    private readonly connectMs: number,
    /** what the client sent while queued, for the instance before anything else */
    private held: Buffer[],
    /** the route's PROXY header for this client, before even `held` */
    private readonly header: Buffer | undefined,
  ) {
    this.upstream = this.connect(instance);
    client.on('drain', () => this.upstream.socket.resume());
    client.once('close', () => {
      // both ways ended cleanly: the client's last bytes and FIN may still be on their way to
      // the instance; anything else (a reset, the idle cut) cuts the instance's side too
      if (client.readableEnded && client.writableFinished && this.upstream.connected) this.upstream.socket.destroySoon();
      else this.upstream.destroy();
      this.uncount();
    });
  }

  /** The connection counts against `instance` from admission on (as a connection and as in flight). */
  private connect(instance: RoutedInstance): UpstreamConnection {
    this.instance = instance;
    // a TCP connection is one unit of work for as long as it is open: the autoscaler's
    // concurrency for a TCP service is its open connections
    this.service.begin(instance);
    instance.attachments.add(this);
    const upstream = this.pool.connect(instance, this);
    // set before any 'end' (documented for Duplex): the instance's FIN must not end our side
    upstream.socket.allowHalfOpen = true;
    // a host that drops packets: give up, and the close retries once as after a refusal
    upstream.socket.setTimeout(this.connectMs, () => {
      if (!upstream.connected) upstream.socket.destroy(new Error(`no connection within ${this.connectMs / 1000}s`));
    });
    return upstream;
  }

  private uncount(): void {
    const instance = this.instance;
    if (instance === undefined) return;
    this.instance = undefined;
    instance.attachments.delete(this);
    this.service.end(instance, 0, 0);
    this.service.detach(instance);
  }

  onUpstreamConnect(): void {
    this.upstream.socket.setTimeout(0);
    // a connect that worked ends a run of failures, as an answer below 500 does on the HTTP side
    if (this.instance !== undefined) recordSuccess(this.instance.outlier);
    const upstream = this.upstream.socket;
    for (const chunk of withHeader(this.header, this.held)) upstream.write(chunk);
    this.held = [];
    // its FIN came while it was queued (after some bytes: see QueuedClient): pass it on
    if (this.client.readableEnded) {
      upstream.end();
      return;
    }
    // the client's FIN ends the instance's side (pipe's default), and its bytes flow from here
    this.client.pipe(upstream);
    this.client.resume();
  }

  onUpstreamData(chunk: Buffer): void {
    const flushed = this.client.write(chunk);
    if (this.client.writableLength > 0) keepChunk();
    if (!flushed) this.upstream.socket.pause();
  }

  onUpstreamEnd(): void {
    this.client.end();
  }

  onUpstreamDrain(): void {}

  onUpstreamClose(error: Error | undefined): void {
    const instance = this.instance;
    if (!this.upstream.connected && instance !== undefined) {
      instance.failures++;
      this.service.failed(instance);
      this.uncount();
      const next = this.retried || this.client.destroyed ? undefined : this.service.take(this.key, instance, 'connection');
      this.retried = true;
      if (next !== undefined) {
        this.service.retries++;
        this.upstream = this.connect(next);
        return;
      }
      this.client.destroy();
      return;
    }
    // closed cleanly, both sides ended: what the client has not read yet still goes to it
    if (error === undefined) this.client.destroySoon();
    else this.client.destroy();
  }

  release(): void {}

  cut(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}

export class TcpProxy {
  private readonly listeners = new Map<number, net.Server>();

  /**
   * `connectMs`: how long a connection to an instance may take to open (the HTTP side's too).
   * `proxyProtocol`: connections from the trusted proxies open with a PROXY header (proxy-protocol.ts).
   */
  constructor(
    private readonly routing: Routing,
    private readonly pool: UpstreamPool,
    private readonly host: string,
    private readonly connectMs = DEFAULT_CONNECT_MS,
    private readonly trustedProxies?: TrustedProxies,
    private readonly proxyProtocol = false,
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
      // allowHalfOpen: a client's FIN is passed on to the instance, not answered with ours
      const server = net.createServer({ noDelay: true, pauseOnConnect: true, allowHalfOpen: true }, (socket) => this.accept(port, socket));
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
    const peer = clientAddress(client.remoteAddress);
    if (this.proxyProtocol && this.trustedProxies?.trusts(peer) === true) this.awaitProxyHeader(port, client, peer);
    else this.admit(port, client, peer, []);
  }

  /**
   * A trusted balancer's connection: its PROXY header first, naming the client ip affinity keys
   * on. What follows the header in the same read is the client's first bytes. No valid header within
   * the edge's connect timeout (`--connect-timeout`, 5 s: a balancer sends it at once) closes the
   * connection, as does a malformed one.
   */
  private awaitProxyHeader(port: number, client: net.Socket, peer: string): void {
    const reader = new ProxyHeaderReader();
    const giveUp = (): void => void client.destroy();
    const timer = setTimeout(giveUp, this.connectMs);
    const onData = (chunk: Buffer): void => {
      const read = reader.push(chunk);
      if (read === undefined) return;
      const { header, rest } = read;
      client.pause();
      client.off('data', onData);
      client.off('end', giveUp);
      clearTimeout(timer);
      if (header.kind === 'invalid') return giveUp();
      const named = header.source === undefined ? undefined : { source: header.source, destination: header.destination };
      this.admit(port, client, header.source?.address ?? peer, rest === undefined ? [] : [rest], named);
    };
    client.on('data', onData);
    // a FIN before the whole header: nothing can be proxied
    client.once('end', giveUp);
    client.once('close', () => clearTimeout(timer));
    client.resume();
  }

  /**
   * `address`: the client's (the peer, or whom a PROXY header named); `early`: bytes it sent
   * already; `named`: the ends a trusted balancer's PROXY header named, for the instance's header.
   */
  private admit(port: number, client: net.Socket, address: string, early: Buffer[], named?: NamedEnds): void {
    const route = this.routing.tcpRoute(port);
    if (route === undefined || client.destroyed) {
      client.destroy();
      return;
    }
    const { service } = route;
    // the route in force at admission decides, as it decides the queue
    const send = route.entry.proxyProtocol === undefined ? undefined : { version: route.entry.proxyProtocol, named };
    const key = service.config.affinity?.type === 'ip' ? address : undefined;
    // admitted at once, the client is not read until the instance's connection opens (the
    // listener pauses on connect); at concurrency.hard everywhere, it waits in the route's queue,
    // read only to hold its bytes and to see it leave (QueuedClient); turned away (queue full or
    // its timeout passed), it is closed without a byte: TCP has no 503 to send
    const leaving = new AbortController();
    const admitted = service.admit(key, service.defaultUnit, leaving.signal);
    if (!(admitted instanceof Promise)) {
      this.serve(service, client, admitted, key, early, send);
      return;
    }
    const queued = new QueuedClient(client, leaving, early);
    void admitted.then((admission) => {
      queued.stop();
      this.serve(service, client, admission, key, queued.held, send);
    });
  }

  /** `send`: the route's PROXY protocol version, and what a balancer named, when it has one. */
  private serve(
    service: ServiceInstances,
    client: net.Socket,
    admission: Admission,
    key: string | undefined,
    held: Buffer[],
    send: { version: ProxyProtocolVersion; named: NamedEnds | undefined } | undefined,
  ): void {
    if (!admission.ok || client.destroyed) {
      if (admission.ok) service.detach(admission.instance);
      client.destroy();
      return;
    }
    const header = send === undefined ? undefined : instanceHeader(send.version, client, send.named);
    if (send !== undefined && header === undefined) {
      // the socket has lost its addresses (it is closing): no header to send, so nothing to serve
      service.detach(admission.instance);
      client.destroy();
      return;
    }
    new TcpPipe(service, client, admission.instance, this.pool, key, this.connectMs, held, header);
    client.setTimeout(service.config.idleTimeoutMs ?? DEFAULT_TCP_IDLE_MS, () => client.destroy());
  }

  close(): void {
    for (const server of this.listeners.values()) server.close();
    this.listeners.clear();
  }
}
