// The route table the control plane hands to every edge: which host and path prefix reach which
// service, how that service is balanced, and its instances. The edge swaps a whole table at once
// (never a patch), so one document is always self-consistent.
import { z } from 'zod';
import { BALANCERS, DEFAULT_QUEUE, DEFAULT_TCP_IDLE_MS, modeConflict, PROXY_PROTOCOL_VERSIONS, ROUTING_MODES, type Affinity, type RoutingMode } from '../spec/route.js';
import { MAX_TIMER_MS } from '../spec/quantities.js';

// the modes and balancers are berth.yaml's (src/spec/route.ts); docs/edge.md has the trade-off
export type { BalancerName, RoutingMode } from '../spec/route.js';

const hostName = z
  .string()
  .min(1)
  .transform((host) => host.toLowerCase());
const pathPrefix = z
  .string()
  .startsWith('/')
  // "/api/" and "/api" route the same requests (as in berth.yaml)
  .transform((path) => (path.length > 1 ? path.replace(/\/+$/, '') : path));
const port = z.int().min(1).max(65535);

const instanceSchema = z.object({
  id: z.string().min(1),
  address: z.string().min(1),
  port,
  /** passed its ready probe; only ready instances get new traffic */
  ready: z.boolean(),
  /** leaving (scale-in, deploy, host drain): no new requests or connections */
  draining: z.boolean().default(false),
});

const ipAffinitySchema = z.object({ type: z.literal('ip') });
const affinitySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('cookie'), cookie: z.string().min(1) }),
  ipAffinitySchema,
  z.object({ type: z.literal('header'), header: z.string().min(1) }),
]);

/** `unit`: what the limits count when `type` is left out. */
const concurrencySchema = (unit: 'requests' | 'connections') =>
  z.object({
    type: z.enum(['requests', 'connections']).default(unit),
    soft: z.int().min(1).optional(),
    hard: z.int().min(1).optional(),
  });

/** A bounded wait: requests beyond `limit` or older than `timeoutMs` get a 503 (a TCP connection is closed). */
const queueSchema = z.object({
  limit: z.int().min(0),
  timeoutMs: z.int().min(0).max(MAX_TIMER_MS),
});

// the defaults berth.yaml documents live with its schema
export { DEFAULT_QUEUE, DEFAULT_TCP_IDLE_MS } from '../spec/route.js';
/** A cold start is slower than a busy instance freeing up, so the activator waits longer. */
export const DEFAULT_ACTIVATOR_QUEUE = { limit: 1_000, timeoutMs: 60_000 } as const;
export const DEFAULT_DRAIN_GRACE_MS = 30_000;

const serviceFields = {
  service: z.string().min(1),
  balancer: z.enum(BALANCERS).default('least-outstanding'),
  concurrency: concurrencySchema('requests').prefault({}),
  /** waiting for a hard-limited instance to free up */
  queue: queueSchema.prefault(DEFAULT_QUEUE),
  /** how long a leaving instance keeps its in-flight work before the edge cuts it */
  drainGraceMs: z.int().min(0).default(DEFAULT_DRAIN_GRACE_MS),
  /**
   * present when the service may scale to zero (min 0): hold requests (HTTP) or connections (TCP,
   * unread) while no instance is ready, and ask the control plane for one
   */
  activator: queueSchema.optional(),
  instances: z.array(instanceSchema).default([]),
};

const httpRouteSchema = z.object({
  host: hostName,
  pathPrefix: pathPrefix.default('/'),
  /** absent: the edge picks with `defaultMode` */
  mode: z.enum(ROUTING_MODES).optional(),
  affinity: affinitySchema.optional(),
  ...serviceFields,
});

const tcpRouteSchema = z.object({
  /** the port the edge listens on for this service */
  port,
  /** a connection silent both ways this long is closed */
  idleTimeoutMs: z.int().min(1).max(MAX_TIMER_MS).default(DEFAULT_TCP_IDLE_MS),
  ...serviceFields,
  /** a connection has no cookie or header to stick by: only its client address */
  affinity: ipAffinitySchema.optional(),
  /** a TCP route's unit is the open connection; a connection waiting in `queue` is held unread */
  concurrency: concurrencySchema('connections').prefault({}),
  /** each connection to an instance opens with this PROXY protocol header (proxy-protocol.ts); absent: none */
  proxyProtocol: z.enum(PROXY_PROTOCOL_VERSIONS).optional(),
});

export const routeTableSchema = z
  .object({
    /** increases with every change; the long poll asks for a version after the one it has */
    version: z.int().min(0),
    routes: z.array(httpRouteSchema).default([]),
    tcp: z.array(tcpRouteSchema).default([]),
  })
  .check((ctx) => {
    const seen = new Set<string>();
    ctx.value.routes.forEach((route, i) => {
      const key = `${route.host}${route.pathPrefix}`;
      if (seen.has(key)) ctx.issues.push({ code: 'custom', path: ['routes', i], message: `${key} is routed twice`, input: route });
      seen.add(key);
    });
    const ports = new Set<number>();
    ctx.value.tcp.forEach((route, i) => {
      if (ports.has(route.port)) ctx.issues.push({ code: 'custom', path: ['tcp', i, 'port'], message: `tcp port ${route.port} is routed twice`, input: route });
      ports.add(route.port);
    });
  });

/** What the control plane sends (fields with defaults may be left out). */
export type RouteTableDocument = z.input<typeof routeTableSchema>;
/** The parsed table, every default filled in. */
export type RouteTable = z.output<typeof routeTableSchema>;
export type HttpRouteEntry = RouteTable['routes'][number];
export type TcpRouteEntry = RouteTable['tcp'][number];
export type InstanceEntry = HttpRouteEntry['instances'][number];
export type RouteConcurrency = HttpRouteEntry['concurrency'];
export type QueueLimits = z.output<typeof queueSchema>;

// the wire schema and the berth.yaml type must not drift apart
type SameAffinity = HttpRouteEntry['affinity'] extends Affinity | undefined ? (Affinity extends HttpRouteEntry['affinity'] ? true : never) : never;
const affinityMatches: SameAffinity = true;
void affinityMatches;

export type RouteTableParse = { ok: true; table: RouteTable } | { ok: false; message: string };

/** Checks a document from the wire or from disk; the message names the field that is wrong. */
export function parseRouteTable(data: unknown): RouteTableParse {
  const parsed = routeTableSchema.safeParse(data);
  if (parsed.success) return { ok: true, table: parsed.data };
  const first = parsed.error.issues[0];
  const where = first === undefined || first.path.length === 0 ? 'route table' : first.path.join('.');
  return { ok: false, message: `${where}: ${first?.message ?? 'invalid'}` };
}

/**
 * The mode that keeps every feature of the route correct, and the fast path when nothing needs
 * more: a cookie must be inserted into responses, a header key can change between requests on
 * one connection, and a hard or soft limit on requests has to see each request. Client-IP
 * affinity and connection limits are decided once per connection, so they allow the fast path.
 * The rule is `modeConflict` (src/spec/route.ts), which also rejects a `mode` in berth.yaml that
 * breaks one of these features.
 */
export function defaultMode(route: Pick<HttpRouteEntry, 'affinity' | 'concurrency'>): RoutingMode {
  return modeConflict('per-connection', route) === undefined ? 'per-connection' : 'per-request';
}

export function routeMode(route: Pick<HttpRouteEntry, 'mode' | 'affinity' | 'concurrency'>): RoutingMode {
  return route.mode ?? defaultMode(route);
}
