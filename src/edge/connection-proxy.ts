// One client connection through the edge, in either routing mode. Requests are read off the
// socket by HttpFraming, which only marks where each one begins and ends; bytes are passed on as
// they come. The marks are what let the edge route every request, add forwarding headers to
// each, count requests and statuses, and move a connection between instances at a request
// boundary without the client noticing.
//
// per-connection route: the connection is pinned to one instance while the route stays the same
//   and the instance stays (it moves when the instance leaves, or rebalances when one joins).
// per-request route: every request is balanced on its own and borrows a pooled connection to its
//   instance for exactly one exchange.
//
// A request that cannot go at once (an instance must be connected to or waited for, or earlier
// answers are still outstanding) is suspended: its bytes are kept, the client is paused, and
// they are read again once it can go.
import type net from 'node:net';
import { affinityKey, type AffinityKey } from './affinity.js';
import { badGateway, badRequest, gatewayTimeout, notFound, rawAnswer, unavailable, type EdgeAnswer } from './edge-responses.js';
import { claimedProto, clientAddress, forwardedClient, forwardedLines, proxyClaims, rewriteForwarding } from './forwarded-headers.js';
import { Fifo } from './fifo.js';
import { headerValue, HttpFraming, type FramingListener, type MessageHead } from './http-framing.js';
import type { ProxyContext } from './proxy.js';
import type { InstanceAttachment, RoutedInstance } from './routed-instance.js';
import type { HttpRoute } from './routing.js';
import { MAX_READ_WHILE_QUEUED, type LoadUnit, type ServiceInstances } from './service-instances.js';
import { DirectWrites, type WritesOwner } from './direct-writes.js';
import { keepChunk, type ChunkReader, type SocketReads } from './socket-reads.js';
import { RawClient } from './raw-client.js';
import { ProxyHeaderReader } from './proxy-protocol.js';
import { DEFAULT_CONNECT_MS, type UpstreamConnection, type UpstreamOwner } from './upstream-pool.js';

const CONNECTION_LINE = /\r\nConnection:[^\r]*/gi;
const CLOSE_END = Buffer.from('Connection: close\r\n\r\n', 'latin1');
const HEAD_END = Buffer.from('\r\n', 'latin1');

/**
 * Forwarding lines by client address, scheme, host and port, shared by connections: clients
 * behind one load balancer or NAT come from a few addresses, and `Connection: close` traffic
 * would otherwise build them once per request.
 */
const forwardedCache = new Map<string, Buffer>();
function forwardedBytes(address: string, proto: string, host: string, port: string): Buffer {
  // no scheme, port or address has a space: the key cannot be read two ways
  const key = `${proto} ${port} ${address} ${host}`;
  let bytes = forwardedCache.get(key);
  if (bytes === undefined) {
    if (forwardedCache.size >= 4_096) forwardedCache.clear();
    bytes = Buffer.from(`${forwardedLines(address, proto, host, port)}\r\n`, 'latin1');
    forwardedCache.set(key, bytes);
  }
  return bytes;
}

const NO_AFFINITY: AffinityKey = { key: undefined };

/**
 * A head as it goes to the instance, in one buffer: its lines (without the line from `cutFrom` to
 * `cutTo`, when given) and then `tail`, the forwarding lines and the blank line. One copy, rather
 * than views of the parts and a concat of them.
 */
function headWith(raw: Buffer, tail: Buffer, cutFrom = -1, cutTo = -1): Buffer {
  const end = raw.length - 2; // before the blank line
  const kept = cutFrom < 0 ? end : end - (cutTo - cutFrom);
  const bytes = Buffer.allocUnsafe(kept + tail.length);
  if (cutFrom < 0) raw.copy(bytes, 0, 0, end);
  else {
    raw.copy(bytes, 0, 0, cutFrom);
    raw.copy(bytes, cutFrom, cutTo, end);
  }
  tail.copy(bytes, kept);
  return bytes;
}

/** How long an upgraded connection (a WebSocket) may carry nothing either way, by default: HAProxy's suggested `timeout tunnel`. */
export const DEFAULT_TUNNEL_MS = 3_600_000;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** 'GET' first: nearly every request, and compared without a lookup */
const idempotent = (method: string): boolean => method === 'GET' || IDEMPOTENT.has(method);

/** The instance a connection is using now, and how that use is counted. */
interface Pin {
  readonly service: ServiceInstances;
  readonly instance: RoutedInstance;
  readonly upstream: UpstreamConnection;
  readonly response: HttpFraming;
  /** counted as one request in flight (per-request route) rather than one connection */
  unit: LoadUnit;
  readonly epoch: number;
}

/** A change to the next answer's head: a cookie to set, or `Connection: close` to announce. */
interface AnswerRewrite {
  extra: string;
  close: boolean;
}

export class ClientConnection implements FramingListener, UpstreamOwner, InstanceAttachment, ChunkReader, WritesOwner {
  private framing: HttpFraming;
  private chunk: Buffer | undefined;
  private readonly out: Buffer[] = [];
  private pin: Pin | undefined;
  /** start times of requests sent and not yet answered, oldest first */
  private readonly outstanding = new Fifo<number>();
  private status = 0;
  /** part of the current answer already went to the client: it can no longer be replaced */
  private answering = false;
  /** the last outstanding answer ended during this read: act once it is written */
  private answered = false;
  /** raw bytes from a suspended request's head onward */
  private deferred: Buffer | undefined;
  /** an instance is being waited for or connected to */
  private busy = false;
  /** the suspended request waits in its service's queue: the client is read meanwhile (see admit) */
  private queued: QueuedRequest | undefined;
  /** the next head read goes to the pin just made (and is already counted if per-request) */
  private pinFresh = false;
  /** ignore what the parser reports for the rest of a chunk after a suspension */
  private stopped = false;
  /** the request sent on a pooled connection, kept to send again if that connection was dead */
  private replay: Buffer | undefined;
  private retried = false;
  private setCookie: string | undefined;
  private rewrite: AnswerRewrite | undefined;
  private heldAnswer: Buffer | undefined;
  private answerChunk: Buffer | undefined;
  private finalHead: { head: MessageHead; at: number } | undefined;
  private interimEnd = 0;
  private closeAfterAnswer = false;
  private upstreamCloses = false;
  /** the client is paused because the instance's connection is not taking more */
  private heldByInstance = false;
  private clientEnded = false;
  private done = false;
  // for the idle and request timeouts, checked by a once-a-second sweep (see proxy.ts)
  private activity = 0;
  private seenActivity = -1;
  private lastActive = 0;
  /** the client's address: the peer's, or the one a trusted balancer's PROXY header names */
  private address: string;
  /** the scheme and port the client reached the edge by, as the forwarding headers give them (a PROXY header may name others) */
  private proto = 'http';
  private port: string | undefined;
  /** a trusted balancer's PROXY header is awaited (proxy-protocol.ts) */
  private proxyHeader: ProxyHeaderReader | undefined;
  /** what goes to the client goes through here, not client.write (direct-writes.ts) */
  private readonly writes: DirectWrites;
  /** the chunk being read now, lent by its socket for the call (socket-reads.ts) */
  private lent: Buffer | undefined;
  /** the peer is a trusted proxy: its X-Forwarded-*, Forwarded and client address are believed (decided at accept, or by the client a PROXY header names) */
  private trusted: boolean;
  /** the client address the pinned instance was picked for, under ip affinity from a trusted proxy */
  private pinnedClient: string | undefined;
  private forwardedHost = '\0';
  private forwardedProto = 'http';
  private forwardedPort = '';
  private forwardedBuffer: Buffer = Buffer.alloc(0);
  /** places in the proxy's open connections and among the pinned instance's attachments (roster.ts) */
  connectionSlot = -1;
  attachmentSlot = -1;

  /**
   * `reads`: the client's socket reads through SocketReads (chunks valid only during the call);
   * without it, through 'data' events.
   */
  constructor(
    private readonly client: net.Socket | RawClient,
    private readonly context: ProxyContext,
    private readonly reads?: SocketReads,
  ) {
    this.address = clientAddress(client.remoteAddress);
    this.trusted = context.trustedProxies?.trusts(this.address) ?? false;
    if (this.trusted && context.proxyProtocol === true) this.proxyHeader = new ProxyHeaderReader();
    this.writes = new DirectWrites(client, this);
    this.framing = new HttpFraming('request', this);
    // shared listeners rather than closures per connection: `Connection: close` traffic makes
    // one of these per request
    if (reads !== undefined) reads.reader = this;
    if (client instanceof RawClient) {
      client.owner = this;
      return;
    }
    (client as OwnedSocket)[OWNER] = this;
    if (reads === undefined) client.on('data', onData);
    client.on('end', onEnd);
    client.on('close', onClose);
    client.on('error', noop);
  }

  onChunk(chunk: Buffer): void {
    this.lent = chunk;
    this.onClientData(chunk);
    this.lent = undefined;
  }

  onClientData(chunk: Buffer): void {
    this.activity++;
    if (this.done) return;
    if (this.proxyHeader !== undefined) {
      const rest = this.takeProxyHeader(chunk);
      if (rest === undefined) return;
      chunk = rest;
    }
    if (this.deferred !== undefined) {
      if (this.queued !== undefined) return this.readWhileQueued(this.queued, chunk);
      // read before the pause took hold: it stays behind the suspended request (an upgrade too:
      // its parser is past the switch, but the request has not gone anywhere yet)
      this.deferred = Buffer.concat([this.deferred, chunk]);
      return;
    }
    if (this.framing.tunneled) {
      if (this.pin !== undefined) this.toInstance(this.pin, chunk);
      return;
    }
    this.chunk = chunk;
    this.framing.push(chunk);
    this.chunk = undefined;
    this.flush();
  }

  /**
   * Reads a trusted balancer's PROXY header off the connection's first bytes: the client it names
   * is the connection's client from here on (its address in X-Forwarded-For and for ip affinity,
   * trusted only if it is itself a trusted proxy). Returns what follows the header, if anything
   * did; a connection whose header is not valid is closed, as HAProxy's `accept-proxy` does.
   */
  private takeProxyHeader(chunk: Buffer): Buffer | undefined {
    const read = this.proxyHeader!.push(chunk);
    if (read === undefined) return undefined;
    this.proxyHeader = undefined;
    const { header, rest } = read;
    if (header.kind === 'invalid') {
      this.done = true;
      this.client.destroy();
      return undefined;
    }
    if (header.source !== undefined) {
      this.address = header.source.address;
      this.trusted = this.context.trustedProxies!.trusts(this.address);
      this.port = String(header.destination!.port);
    }
    if (header.tls === true) this.proto = 'https';
    return rest;
  }

  private flush(): void {
    const out = this.out;
    if (out.length === 0) return;
    const bytes = out.length === 1 ? out[0]! : Buffer.concat(out);
    out.length = 0;
    if (this.pin !== undefined) this.toInstance(this.pin, bytes);
  }

  /**
   * Writes at the end of the event loop's turn, after its reads (direct-writes.ts, holding).
   * Bytes of the chunk being read now are lent: its socket reuses them after the call, so a held
   * write copies them, and a write libuv queued keeps the chunk (keepChunk). Anything else is
   * handed over.
   */
  private write(writes: DirectWrites, bytes: Buffer): boolean {
    const lent = this.lent !== undefined && bytes.buffer === this.lent.buffer;
    const flushed = writes.write(bytes, true, !lent);
    if (lent && writes.queued) keepChunk();
    return flushed;
  }

  private toInstance(pin: Pin, bytes: Buffer): void {
    // the instance reads slower than the client sends: wait for its connection to drain
    if (!this.write(pin.upstream.writes, bytes)) {
      this.heldByInstance = true;
      this.client.pause();
    }
  }

  // FramingListener: the client's requests

  onHead(head: MessageHead, end: number): void {
    if (this.stopped) return;
    const pin = this.pin;
    if (this.pinFresh && pin !== undefined) {
      this.pinFresh = false;
      return this.send(head, pin.unit === 'request');
    }
    const route = this.context.routing.route(head);
    if (route !== undefined && pin !== undefined && route.mode === 'per-connection' && pin.unit === 'connection' && pin.service === route.service && !pin.instance.leaving && pin.epoch === route.service.epoch && (!this.trusted || this.sameClient(route, head))) {
      return this.send(head, false);
    }
    // anything else needs a new instance (or an answer from the edge), after the earlier answers
    if (this.outstanding.length > 0 || this.busy) return this.suspend(head, end);
    if (route === undefined) {
      this.stopped = true;
      return this.refuse(notFound(head.host, head.target));
    }
    this.repin(route, head, end);
  }

  onBytes(chunk: Buffer, start: number, end: number): void {
    if (this.stopped) return;
    this.out.push(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end));
  }

  onMessageEnd(): void {}

  onError(message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    const answer = badRequest(message);
    this.refuse(message.startsWith('head larger') ? { ...answer, status: 431 } : answer);
  }

  /** Picks an instance for the route and sends the request, or suspends it until it can go. */
  private repin(route: HttpRoute, head: MessageHead, end: number): void {
    const service = route.service;
    // the service's own counting unit, so admit() and load() count the same thing
    const unit: LoadUnit = service.defaultUnit;
    const wanted = route.entry.affinity;
    const affinity = wanted === undefined ? NO_AFFINITY : affinityKey(wanted, (name) => headerValue(head.raw, name), wanted.type === 'ip' ? this.clientOf(head) : this.address, this.proto === 'https' || (this.trusted && head.forwarded && claimedProto(head.raw) === 'https'));
    this.pinnedClient = affinity.key;
    this.unpin();
    // one retry per request, not per connection
    this.retried = false;
    const instance = service.take(affinity.key, undefined, unit);
    if (instance !== undefined) {
      this.setCookie = affinity.setCookie;
      const idle = this.context.pool.takeIdle(instance, this);
      if (idle !== undefined) {
        this.attach(service, instance, idle, unit);
        return this.send(head, unit === 'request');
      }
      this.suspend(head, end);
      this.busy = true;
      this.attach(service, instance, this.context.pool.connect(instance, this), unit);
      return;
    }
    this.suspend(head, end);
    void this.admit(service, affinity, unit);
  }

  /** The client a request comes from: the peer, or from a trusted proxy the client it names (forwarded-headers.ts). */
  private clientOf(head: MessageHead): string {
    const proxies = this.context.trustedProxies;
    return this.trusted && proxies !== undefined ? forwardedClient(head.raw, this.address, proxies) : this.address;
  }

  /**
   * Whether a trusted proxy's request comes from the client its connection was pinned for, under
   * ip affinity: a load balancer carries many clients' requests on one kept-alive connection, and
   * each must reach its own client's instance.
   */
  private sameClient(route: HttpRoute, head: MessageHead): boolean {
    return route.entry.affinity?.type !== 'ip' || this.clientOf(head) === this.pinnedClient;
  }

  /**
   * Waits for an instance in the service's queue (at its hard limit, or starting from zero). The
   * client is read meanwhile, so one that hangs up leaves the queue at once instead of holding a
   * place until its turn or the timeout: a reset, or a FIN, which is how a browser's stop or a
   * closed tab looks. nginx takes a FIN while it waits for the upstream the same way (its 499);
   * an HTTP/1.1 client does not half-close and then wait for an answer. What the client sends
   * meanwhile (pipelined requests, the rest of a body) is kept behind the request, up to
   * MAX_READ_WHILE_QUEUED; past that the client is no longer read.
   */
  private async admit(service: ServiceInstances, affinity: AffinityKey, unit: LoadUnit): Promise<void> {
    this.busy = true;
    const queued: QueuedRequest = { leave: new AbortController(), bytes: [], size: 0 };
    const pending = service.admit(affinity.key, unit, queued.leave.signal);
    if (pending instanceof Promise) {
      this.queued = queued;
      if (!this.clientEnded) this.client.resume();
    }
    const admission = await pending;
    if (this.queued === queued) this.stopReadingWhileQueued(queued);
    if (this.done) {
      if (admission.ok) this.uncount(service, admission.instance, unit);
      return;
    }
    if (!admission.ok) {
      this.busy = false;
      // the client is gone: nobody to answer
      if (queued.leave.signal.aborted) {
        this.done = true;
        this.client.destroy();
        return;
      }
      return this.refuse(unavailable(admission.message, admission.retryAfter));
    }
    this.setCookie = affinity.setCookie;
    const upstream = this.context.pool.take(admission.instance, this);
    this.attach(service, admission.instance, upstream, unit);
    if (upstream.connected) this.onUpstreamConnect();
  }

  /** Keeps what a queued request's client sends, in order behind it; the client stops being read past the bound. */
  private readWhileQueued(queued: QueuedRequest, chunk: Buffer): void {
    // a copy: the chunk is lent by the socket
    queued.bytes.push(Buffer.from(chunk));
    queued.size += chunk.length;
    if (queued.size >= MAX_READ_WHILE_QUEUED) this.client.pause();
  }

  /** The wait is over: what was read goes behind the request, and the client is not read again until it is sent. */
  private stopReadingWhileQueued(queued: QueuedRequest): void {
    this.queued = undefined;
    if (queued.size > 0 && this.deferred !== undefined) this.deferred = Buffer.concat([this.deferred, ...queued.bytes]);
    if (!this.done) this.client.pause();
  }

  /** Undoes the count a pick made, for a pick that will not be used. */
  private uncount(service: ServiceInstances, instance: RoutedInstance, unit: LoadUnit): void {
    if (unit === 'request') service.end(instance, 0, 0);
    else service.detach(instance);
  }

  private attach(service: ServiceInstances, instance: RoutedInstance, upstream: UpstreamConnection, unit: LoadUnit): void {
    instance.attachments.add(this);
    // one answer parser per client connection, reset for each instance connection
    this.answerFraming ??= new HttpFraming('response', this.answers);
    this.answerFraming.reset();
    this.pin = { service, instance, upstream, response: this.answerFraming, unit, epoch: service.epoch };
    this.upstreamCloses = false;
  }

  onUpstreamConnect(): void {
    if (!this.busy) return;
    this.busy = false;
    this.pinFresh = true;
    this.resume();
  }

  private send(head: MessageHead, counted: boolean): void {
    const pin = this.pin!;
    const now = performance.now();
    this.outstanding.push(now);
    if (!counted) pin.service.begin(pin.instance, now);
    pin.response.expectResponseTo(head.method);
    // a copy: the head is in the client socket's read buffer, which the next read overwrites
    // only an idempotent request (RFC 9110 §9.2.2) is sent twice: the instance may have acted on
    // another before closing, as nginx's proxy_next_upstream assumes too
    if (pin.upstream.reused && this.outstanding.length === 1 && !head.hasBody && idempotent(head.method)) this.replay = Buffer.from(head.raw);
    let raw = head.raw;
    if (this.setCookie !== undefined) {
      this.rewrite = { extra: `Set-Cookie: ${this.setCookie}\r\n`, close: false };
      this.setCookie = undefined;
    }
    // a client's `Connection: close` is about its own connection: the edge closes that one after
    // the answer and keeps its connection to the instance for the next client
    if (head.connectionClose && head.http11 && this.outstanding.length === 1) {
      this.closeAfterAnswer = true;
      this.rewrite = { extra: this.rewrite?.extra ?? '', close: true };
      if (head.connectionLineStart >= 0 && !head.forwarded) {
        this.out.push(headWith(raw, this.forwarded(this.proto, head.authority, this.port ?? this.context.port ?? ''), head.connectionLineStart, head.connectionLineEnd));
        return;
      }
      raw = Buffer.from(raw.toString('latin1').replace(CONNECTION_LINE, ''), 'latin1');
    }
    let proto = this.proto;
    let host = head.authority;
    let port = this.port ?? this.context.port ?? '';
    if (head.forwarded) {
      // a trusted proxy's word on how the client reached it is kept (its first values); anyone else's is dropped
      if (this.trusted) ({ proto, host, port } = proxyClaims(head.raw, host, port, proto));
      raw = Buffer.from(rewriteForwarding(raw.toString('latin1'), this.trusted ? this.address : undefined), 'latin1');
    }
    this.out.push(headWith(raw, this.forwarded(proto, host, port)));
  }

  /** The forwarding lines and the blank line that ends the head: the same bytes for every request of one scheme, host and port. */
  private forwarded(proto: string, host: string, port: string): Buffer {
    if (host !== this.forwardedHost || proto !== this.forwardedProto || port !== this.forwardedPort) {
      this.forwardedHost = host;
      this.forwardedProto = proto;
      this.forwardedPort = port;
      this.forwardedBuffer = forwardedBytes(this.address, proto, host, port);
    }
    return this.forwardedBuffer;
  }

  private suspend(head: MessageHead, end: number): void {
    this.stopped = true;
    const chunk = this.chunk!;
    // copied out of the client socket's read buffer, which the next read overwrites
    this.deferred = Buffer.concat(end < chunk.length ? [head.raw, chunk.subarray(end)] : [head.raw]);
    this.client.pause();
  }

  /** Reads the suspended bytes again with a fresh parser: the situation has changed. */
  private resume(): void {
    const deferred = this.deferred;
    this.deferred = undefined;
    this.stopped = false;
    this.framing = new HttpFraming('request', this);
    if (deferred !== undefined) this.onClientData(deferred);
    if (this.deferred === undefined && !this.done) this.client.resume();
  }

  /** Lets go of the instance: its connection goes back to the pool when the exchange ended cleanly. */
  private unpin(): void {
    const pin = this.pin;
    if (pin === undefined) return;
    this.pin = undefined;
    pin.instance.attachments.delete(this);
    // both directions between messages, or the instance's side of the connection is mid-message
    const clean = this.outstanding.length === 0 && pin.response.idle && this.framing.idle && !this.upstreamCloses && !pin.upstream.closed;
    if (clean) this.context.pool.give(pin.upstream);
    else pin.upstream.destroy();
    for (const _ of this.outstanding.takeAll()) pin.service.end(pin.instance, 0, 0);
    if (pin.unit === 'connection') pin.service.detach(pin.instance);
    this.upstreamCloses = false;
    this.replay = undefined;
    this.rewrite = undefined;
    this.heldAnswer = undefined;
    this.finalHead = undefined;
    this.answering = false;
    // paused for that instance's backpressure: its drain would now go to someone else
    if (this.heldByInstance) {
      this.heldByInstance = false;
      if (this.deferred === undefined && !this.busy && !this.done) this.client.resume();
    }
  }

  // the instance's answers

  private readonly answers: FramingListener = new AnswerReader(this);
  private answerFraming: HttpFraming | undefined;

  answerHead(head: MessageHead, end: number): void {
    if (head.status >= 200 || head.status === 101) this.status = head.status;
    if (head.connectionClose) this.upstreamCloses = true;
    if (this.rewrite === undefined) return;
    const at = this.heldAnswer!.length - this.answerChunk!.length + end;
    // an interim answer (100 Continue) goes out at once: the client may be waiting for it. A 101
    // is the last head on the connection: it carries the rewrite (the affinity cookie), and what
    // follows it in the same read is the new protocol's first bytes
    if (head.status >= 200 || head.status === 101) this.finalHead = { head, at };
    else this.interimEnd = at;
  }

  answerEnd(): void {
    const started = this.outstanding.shift();
    if (started === undefined) return;
    this.answering = false;
    const pin = this.pin!;
    const now = performance.now();
    pin.service.end(pin.instance, this.status, (now - started) / 1000, now);
    // the next request on this connection may meet the instance's keep-alive timeout, pinned
    // (per-connection) as much as pooled: it keeps a copy to send again (send())
    pin.upstream.reused = true;
    if (this.outstanding.length === 0) this.answered = true;
  }

  answerTunnel(): void {
    // a protocol switch: from here on the pin is a connection, not a request
    const pin = this.pin!;
    if (pin.unit === 'request') {
      pin.service.attach(pin.instance);
      pin.unit = 'connection';
    }
  }

  onUpstreamData(chunk: Buffer): void {
    this.lent = chunk;
    this.answer(chunk);
    this.lent = undefined;
  }

  private answer(chunk: Buffer): void {
    this.activity++;
    this.answering = true;
    this.replay = undefined;
    const pin = this.pin;
    if (pin === undefined) return;
    if (pin.response.tunneled) return this.toClient(chunk);
    if (this.rewrite !== undefined) this.rewriteAnswer(chunk, pin.response);
    else {
      this.toClient(chunk);
      pin.response.push(chunk);
    }
    if (this.answered) this.afterAnswers();
  }

  private toClient(bytes: Buffer): void {
    // the client reads slower than the instance answers: hold the instance until it catches up
    if (!this.write(this.writes, bytes)) this.pin?.upstream.socket.pause();
  }

  /** Holds the answer until its head is complete, then sends it with the rewrite applied. */
  private rewriteAnswer(chunk: Buffer, response: HttpFraming): void {
    this.heldAnswer = this.heldAnswer === undefined ? chunk : Buffer.concat([this.heldAnswer, chunk]);
    this.answerChunk = chunk;
    response.push(chunk);
    const final = this.finalHead;
    const rewrite = this.rewrite;
    if (final === undefined || rewrite === undefined) {
      if (this.interimEnd > 0) {
        this.toClient(this.heldAnswer.subarray(0, this.interimEnd));
        this.heldAnswer = this.heldAnswer.subarray(this.interimEnd);
        this.interimEnd = 0;
      }
      // nothing of the final answer went out yet: it can still be replaced by a 502
      this.answering = false;
      // held past this read: copy it out of the shared read buffer (rare: a head split in two)
      if (this.heldAnswer.buffer === chunk.buffer) this.heldAnswer = Buffer.from(this.heldAnswer);
      return;
    }
    this.interimEnd = 0;
    const held = this.heldAnswer;
    this.heldAnswer = undefined;
    this.answerChunk = undefined;
    this.finalHead = undefined;
    this.rewrite = undefined;
    const { head, at } = final;
    const raw = head.raw;
    const before = held.subarray(0, at - raw.length);
    const after = held.subarray(at);
    const extra = rewrite.extra === '' ? undefined : Buffer.from(rewrite.extra, 'latin1');
    const tail = rewrite.close ? CLOSE_END : HEAD_END;
    let parts: Buffer[];
    if (!rewrite.close) parts = [before, raw.subarray(0, raw.length - 2)];
    else if (head.connectionLineStart >= 0) parts = [before, raw.subarray(0, head.connectionLineStart), raw.subarray(head.connectionLineEnd, raw.length - 2)];
    else parts = [before, Buffer.from(raw.toString('latin1', 0, raw.length - 2).replace(CONNECTION_LINE, ''), 'latin1')];
    if (extra !== undefined) parts.push(extra);
    parts.push(tail, after);
    this.toClient(Buffer.concat(parts));
  }

  /** Every answer is in: close, move on, or let go of a per-request or leaving instance. */
  private afterAnswers(): void {
    this.answered = false;
    if (this.done || this.outstanding.length > 0) return;
    // a refused protocol switch leaves the client sending what is no longer HTTP to us
    const pin = this.pin;
    if (pin?.response.tunneled === true) return;
    // (a suspended upgrade has a parser past the switch too, but it still has to go: resume)
    if (this.closeAfterAnswer || this.upstreamCloses || (this.framing.tunneled && this.deferred === undefined) || (this.clientEnded && this.deferred === undefined)) return this.finish();
    if (pin !== undefined && (pin.unit === 'request' || pin.instance.leaving)) this.unpin();
    if (this.deferred !== undefined && !this.busy) this.resume();
  }

  /**
   * Ends the client connection after its answers; the instance's connection goes back to the
   * pool. The socket closes once written, without waiting for the client's own FIN.
   */
  private finish(): void {
    this.done = true;
    this.writes.whenReleased(() => this.close());
    this.unpin();
  }

  /** Once the answer is in the kernel or queued behind it in libuv. */
  private close(): void {
    // everything is in the kernel and nothing is unread: closing sends it and then FIN, without
    // a shutdown and its round of stream callbacks (`Connection: close` traffic pays these per request)
    if (!this.writes.queued && this.framing.idle && this.deferred === undefined) this.client.destroy();
    else this.client.destroySoon();
  }

  onUpstreamEnd(): void {
    this.pin?.response.end();
    if (this.answered) this.afterAnswers();
  }

  onUpstreamDrain(): void {
    this.heldByInstance = false;
    if (this.deferred === undefined && !this.busy) this.client.resume();
  }

  onUpstreamClose(error: Error | undefined): void {
    const pin = this.pin;
    if (pin === undefined || this.done) return;
    const { service, instance, unit } = pin;
    if (pin.response.tunneled || this.framing.tunneled) {
      // a tunnel the instance ended cleanly: the client gets everything first, as a FIN after it
      // (what libuv queued for a slow reader too); a reset is passed on as one
      if (error !== undefined) return this.destroy();
      this.done = true;
      this.writes.whenReleased(() => this.client.destroySoon());
      return;
    }
    if (!pin.upstream.connected) {
      // refused: nothing was sent and the request is still held; try another instance once
      instance.failures++;
      service.failed(instance);
      this.pin = undefined;
      instance.attachments.delete(this);
      this.uncount(service, instance, unit);
      const next = this.retried ? undefined : service.take(undefined, instance, unit);
      this.retried = true;
      if (next !== undefined) {
        service.retries++;
        this.attach(service, next, this.context.pool.connect(next, this), unit);
        return;
      }
      this.busy = false;
      return this.refuse(badGateway(service.service, `could not connect to instance ${instance.id} (${error?.message ?? 'refused'})`));
    }
    if (this.outstanding.length > 0 && this.replay !== undefined && !this.answering && !this.retried) {
      // a pooled connection the instance had just closed: send the bodiless request again, fresh
      this.retried = true;
      service.retries++;
      this.deferred = this.replay;
      this.replay = undefined;
      // a per-request pin keeps its count for the request; a connection's request is counted again
      const lost = this.outstanding.takeAll();
      if (unit === 'connection') for (const _ of lost) service.end(instance, 0, 0);
      instance.attachments.delete(this);
      this.pin = undefined;
      this.client.pause();
      this.busy = true;
      this.attach(service, instance, this.context.pool.connect(instance, this), unit);
      return;
    }
    if (this.outstanding.length > 0) return this.abandon(badGateway(service.service, `instance ${instance.id} closed the connection before answering`));
    // the instance closed an idle connection (keep-alive timeout, restart): the client keeps its own
    this.unpin();
  }

  /** The instance failed the outstanding requests: answer for them if nothing was sent yet, else cut. */
  private abandon(answer: EdgeAnswer): void {
    const pin = this.pin!;
    pin.instance.failures++;
    // the abandoned answers may still come: the connection must not carry another request
    this.upstreamCloses = true;
    for (const _ of this.outstanding.takeAll()) pin.service.end(pin.instance, answer.status, 0);
    if (!this.answering) this.refuse(answer);
    else {
      this.done = true;
      this.destroy();
      this.unpin();
    }
  }

  /** Answers from the edge itself and closes: after this the stream cannot be trusted to go on. */
  private refuse(answer: EdgeAnswer): void {
    this.done = true;
    this.stopped = true;
    this.writes.write(rawAnswer(answer));
    // behind anything held to the turn's end, as the answer is
    this.writes.whenReleased(() => this.client.destroySoon());
    this.unpin();
  }

  onClientEnd(): void {
    this.clientEnded = true;
    // hung up while its request waited in a queue: it leaves the queue (admit)
    if (this.queued !== undefined) return this.queued.leave.abort();
    if (this.outstanding.length === 0 && this.deferred === undefined && !this.busy && !this.done) this.finish();
  }

  /** the client caught up with what the instance sent: read the instance again */
  onWritesDrained(): void {
    this.pin?.upstream.socket.resume();
  }

  onClientClose(): void {
    this.reads?.release();
    this.done = true;
    // reset while its request waited in a queue: its place is free now, not at its turn
    this.queued?.leave.abort();
    this.unpin();
    this.context.closed(this);
  }

  /** Cuts the connection, after what the kernel takes at once of the bytes held this turn. */
  destroy(): void {
    this.writes.flush();
    this.client.destroy();
  }

  /** The sweep's look, once a second: idle too long, or an instance silent too long on a request. */
  tick(now: number): void {
    const { idleMs, requestMs, connectMs = DEFAULT_CONNECT_MS } = this.context.timeouts;
    const upstream = this.pin?.upstream;
    if (this.busy && upstream !== undefined && !upstream.connected && !upstream.closed) {
      // the close that follows retries once on another instance, as a refusal does
      if (now - upstream.openedAt >= connectMs) upstream.socket.destroy(new Error(`no connection within ${connectMs / 1000}s`));
      return;
    }
    if (this.activity !== this.seenActivity) {
      this.seenActivity = this.activity;
      this.lastActive = now;
      return;
    }
    const quiet = now - this.lastActive;
    if (this.pin?.response.tunneled === true) {
      // a WebSocket may stay quiet far longer than a request or a keep-alive connection
      if (quiet >= (this.context.timeouts.tunnelMs ?? DEFAULT_TUNNEL_MS)) this.client.destroy();
    } else if (this.outstanding.length > 0 && this.pin !== undefined) {
      if (quiet >= requestMs) this.abandon(gatewayTimeout(this.pin.service.service, requestMs));
    } else if (!this.busy && quiet >= idleMs) this.client.destroy();
  }

  // InstanceAttachment: the pinned instance is leaving

  release(): void {
    // between requests: let go now; otherwise afterAnswers lets go once the answers are in
    if (this.outstanding.length === 0 && !this.busy && this.pin?.response.tunneled !== true) this.unpin();
  }

  cut(): void {
    this.destroy();
    this.pin?.upstream.destroy();
  }
}

/** Reads the instance's answers on behalf of a connection (one object, not a closure per callback). */
class AnswerReader implements FramingListener {
  constructor(private readonly connection: ClientConnection) {}
  onHead(head: MessageHead, end: number): void {
    this.connection.answerHead(head, end);
  }
  onMessageEnd(): void {
    this.connection.answerEnd();
  }
  onTunnel(): void {
    this.connection.answerTunnel();
  }
  onError(): void {
    this.connection.destroy();
  }
}

/** A request waiting in its service's queue, and what its client sent meanwhile. */
interface QueuedRequest {
  /** aborted when the client hangs up: the request leaves the queue */
  readonly leave: AbortController;
  readonly bytes: Buffer[];
  size: number;
}

const OWNER = Symbol('berth.clientConnection');
type OwnedSocket = net.Socket & { [OWNER]: ClientConnection };

const noop = (): void => {};
function onData(this: OwnedSocket, chunk: Buffer): void {
  this[OWNER].onClientData(chunk);
}
function onEnd(this: OwnedSocket): void {
  this[OWNER].onClientEnd();
}
function onClose(this: OwnedSocket): void {
  this[OWNER].onClientClose();
}
