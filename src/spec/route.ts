// How the edge reaches a service: an HTTP route (host + path prefix) or a TCP route (a port the
// edge listens on). Both forward to the instance's $PORT.
import { z } from 'zod';
import { formatDuration } from '../core/quantity.js';
import { quote } from './issue-message.js';
import { portNumber } from './probe.js';
import { duration, MAX_TIMER_MS } from './quantities.js';
import { isRecord, readFields, reportRules, under } from './rule.js';
import type { SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';

export const DEFAULT_AFFINITY_COOKIE = 'berth_affinity';

/** Which requests stick to one instance (consistent hashing with bounded load, DESIGN §6). */
export type Affinity =
  | { readonly type: 'cookie'; readonly cookie: string }
  | { readonly type: 'ip' }
  | { readonly type: 'header'; readonly header: string };

export interface Concurrency {
  /** what counts against the limits: in-flight requests, or open connections */
  readonly type: 'requests' | 'connections';
  /** above this the edge prefers other instances */
  readonly soft?: number;
  /** never exceeded: the edge queues briefly, then answers 503 */
  readonly hard?: number;
}

/**
 * `per-request`: every request is balanced on its own. `per-connection`: a connection's first
 * request picks the instance and the connection stays on it (the fast path). docs/edge.md.
 */
export type RoutingMode = 'per-request' | 'per-connection';
export const ROUTING_MODES = ['per-request', 'per-connection'] as const satisfies readonly RoutingMode[];
export const BALANCERS = ['least-outstanding', 'round-robin'] as const;
export type BalancerName = (typeof BALANCERS)[number];

/**
 * The PROXY protocol versions a TCP route can open its instance connections with (HAProxy's
 * `send-proxy` and `send-proxy-v2`): v1 is a text line, v2 a binary header.
 */
export const PROXY_PROTOCOL_VERSIONS = ['v1', 'v2'] as const;
export type ProxyProtocolVersion = (typeof PROXY_PROTOCOL_VERSIONS)[number];

/** The edge's wait behind a hard limit when `http.queue` leaves a field out. */
export const DEFAULT_QUEUE = { limit: 256, timeoutMs: 10_000 } as const;

/**
 * How long a TCP connection may carry no bytes either way before the edge closes it, when
 * `tcp.idleTimeout` is left out. TCP routes front databases and brokers whose clients keep pools
 * of idle connections for minutes to hours (HikariCP retires a connection after 30 min by
 * default, pgbouncer closes idle server connections after 10 min) and do not expect a proxy to
 * cut them sooner: a pool that hands out a connection the edge has closed fails a query. An hour
 * outlasts those while still reclaiming connections whose peer vanished without a FIN.
 */
export const DEFAULT_TCP_IDLE_MS = 3_600_000;

/** Requests (or connections) waiting for an instance below its hard limit. */
export interface RouteQueue {
  /** at most this many wait; 0: answer 503 at once */
  readonly limit?: number;
  /** ms one may wait before it gets a 503 */
  readonly timeout?: number;
}

// mode, balancer, queue and idleTimeout are left out when berth.yaml leaves them out, rather than
// filled with their defaults (the edge fills them, route-table.ts): a stored spec must equal the
// same file parsed by a newer berth (deploy compares them), or the first deploy after an upgrade
// would roll every routed service for nothing.
export interface HttpRoute {
  readonly host: string;
  /** path prefix, without a trailing slash except for the root */
  readonly path: string;
  /** absent: the edge picks the mode with no conflict (`modeConflict`) */
  readonly mode?: RoutingMode;
  /** absent: least-outstanding */
  readonly balancer?: BalancerName;
  readonly affinity?: Affinity;
  readonly concurrency: Concurrency;
  /** absent: DEFAULT_QUEUE */
  readonly queue?: RouteQueue;
}

/** A TCP route's limits: they always count the instance's open connections. */
export interface ConnectionLimits {
  /** above this many open connections the edge prefers other instances */
  readonly soft?: number;
  /** never exceeded: a new connection is held in the route's queue, then closed */
  readonly hard?: number;
}

// like HttpRoute's, the optional fields are absent when berth.yaml leaves them out
export interface TcpRoute {
  /** the port the edge listens on */
  readonly port: number;
  /** ms a connection may carry no bytes either way before the edge closes it; absent: DEFAULT_TCP_IDLE_MS */
  readonly idleTimeout?: number;
  /** absent: least-outstanding (fewest open connections of two random instances) */
  readonly balancer?: BalancerName;
  /** a connection has no cookie or header to stick by, only its client address */
  readonly affinity?: Extract<Affinity, { type: 'ip' }>;
  /** absent: no limits */
  readonly concurrency?: ConnectionLimits;
  /** absent: DEFAULT_QUEUE; only with concurrency.hard */
  readonly queue?: RouteQueue;
  /** each connection to an instance opens with a PROXY header naming the client; absent: none */
  readonly proxyProtocol?: ProxyProtocolVersion;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const COOKIE_NAME = HEADER_NAME;

/**
 * A route host is a host name, or a host name after one leading `*.` label. `*.example.com`
 * matches every Host that ends in .example.com with one or more labels before it (a.example.com,
 * a.b.example.com), not example.com itself, as nginx's server_name and Envoy's virtual host
 * domains do. One label after `*.` is enough: `*.localhost` routes every name of local
 * development. `*` anywhere else is refused. The edge's side of the rule: src/edge/routing.ts.
 */
export const WILDCARD_LABEL = '*.';

/**
 * A name a route host answers to, for an address to print: a wildcard's with `any` as its first
 * label, or `any-2`, `any-3`, … where another route takes that name exactly (an exact host wins
 * over a wildcard, so the printed address would reach the other service). `exact`: the exact
 * hosts of every route.
 */
export function exampleHost(host: string, exact: ReadonlySet<string> = new Set()): string {
  if (!host.startsWith(WILDCARD_LABEL)) return host;
  const suffix = host.slice(1);
  let name = `any${suffix}`;
  for (let n = 2; exact.has(name); n++) name = `any-${n}${suffix}`;
  return name;
}

function isRouteHost(text: string): boolean {
  return HOSTNAME.test(text.startsWith(WILDCARD_LABEL) ? text.slice(WILDCARD_LABEL.length) : text);
}

/** What to write instead of a host that is not one, or a wildcard put where the edge cannot match it. */
function hostMessage(text: string): string {
  const bare = text.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, '');
  if (isRouteHost(bare)) return `"${text}" is not a host name (lower case, no scheme, port or path); write ${bare}`;
  if (bare.includes('*')) {
    // *example.com and **.example.com mean the wildcard the edge has; a.*.com has none to offer
    const leading = `${WILDCARD_LABEL}${bare.replace(/^[*.]+/, '')}`;
    const fix = isRouteHost(leading) ? `; write ${leading}` : ', e.g. *.example.com';
    return `"${text}" is not a host name; a wildcard is a leading "*." label${fix}`;
  }
  return `"${text}" is not a host name (lower case, no scheme, port or path); write a host name, e.g. app.example.com`;
}

const host = z.string().check((ctx) => {
  if (isRouteHost(ctx.value)) return;
  ctx.issues.push({ code: 'custom', message: hostMessage(ctx.value), input: ctx.value });
});

const pathPrefix = z
  .string()
  .startsWith('/', { error: (i) => `"${String(i.input)}" is not a path prefix; write it from the root, e.g. /api` })
  // "/api/" and "/api" route the same requests, so they must compare equal in conflict checks
  .transform((path) => (path.length > 1 ? path.replace(/\/+$/, '') : path));

const affinity = z
  .union([
    z.enum(['cookie', 'ip', 'header']),
    strictObject({
      cookie: z.string().regex(COOKIE_NAME, { error: (i) => `"${String(i.input)}" is not a cookie name; write e.g. ${DEFAULT_AFFINITY_COOKIE}` }).optional(),
      header: z.string().regex(HEADER_NAME, { error: (i) => `"${String(i.input)}" is not a header name; write e.g. X-Tenant` }).optional(),
    }),
  ])
  .transform((input, ctx): Affinity => {
    if (input === 'cookie') return { type: 'cookie', cookie: DEFAULT_AFFINITY_COOKIE };
    if (input === 'ip') return { type: 'ip' };
    if (input === 'header') {
      ctx.issues.push({ code: 'custom', message: 'header affinity needs the header name; write affinity: { header: X-Tenant }', input });
      return z.NEVER;
    }
    if (input.cookie !== undefined && input.header !== undefined) {
      ctx.issues.push({ code: 'custom', path: ['header'], message: 'sets both cookie and header; keep one', input });
      return z.NEVER;
    }
    if (input.cookie !== undefined) return { type: 'cookie', cookie: input.cookie };
    if (input.header !== undefined) return { type: 'header', header: input.header };
    ctx.issues.push({ code: 'custom', message: 'is empty; write affinity: cookie, affinity: ip or affinity: { header: X-Tenant }', input });
    return z.NEVER;
  });

// soft and hard read, and relate, the same on both kinds of route; only what they count differs
const limitFields = {
  soft: z.int().min(1).optional(),
  hard: z.int().min(1).optional(),
};

const concurrencyFields = {
  type: z.enum(['requests', 'connections']).default('requests'),
  ...limitFields,
};

/** The rule between the limits, over whichever of them parsed (see rule.ts). */
function concurrencyChecks({ soft, hard }: { soft?: number; hard?: number }): SpecIssue[] {
  if (soft === undefined || hard === undefined || soft <= hard) return [];
  return [{ path: ['soft'], message: `soft limit ${soft} is above the hard limit ${hard}; lower soft or raise hard` }];
}

const concurrency = strictObject(concurrencyFields).superRefine((limits, ctx) => reportRules(ctx, concurrencyChecks(limits)));

/** The limits of a route that count in its `type`'s unit, as they read in berth.yaml. */
function limitNames({ soft, hard }: Concurrency): string | undefined {
  const names = [soft === undefined ? undefined : 'concurrency.soft', hard === undefined ? undefined : 'concurrency.hard'].filter((n) => n !== undefined);
  return names.length === 0 ? undefined : names.join(' and ');
}

type ModeFeatures = { readonly affinity?: Affinity | undefined; readonly concurrency: Concurrency };

/** What a route asks of every request, which a per-connection route sees only the first of. */
function perRequestNeeds({ affinity, concurrency }: ModeFeatures): string[] {
  const needs: string[] = [];
  if (affinity?.type === 'cookie') needs.push(`cookie affinity sets ${affinity.cookie} on every answer`);
  if (affinity?.type === 'header') needs.push(`header affinity reads ${affinity.header} from every request`);
  const limits = limitNames(concurrency);
  if (concurrency.type === 'requests' && limits !== undefined) needs.push(`${limits} count${limits.includes(' and ') ? '' : 's'} requests`);
  return needs;
}

/**
 * Why `mode` cannot serve the rest of the route, or undefined when it serves it all. A
 * per-connection route sees only the first request of a connection: it cannot set the affinity
 * cookie on later answers, follow an affinity header that changes between requests, or count
 * requests against a limit. A per-request route counts requests, not connections, so a limit on
 * connections would never bind. The edge's default mode is the one without a conflict
 * (`defaultMode` in src/edge/route-table.ts).
 */
export function modeConflict(mode: RoutingMode, route: ModeFeatures): string | undefined {
  if (mode === 'per-request') {
    const limits = limitNames(route.concurrency);
    if (route.concurrency.type !== 'connections' || limits === undefined) return undefined;
    return `per-request counts requests, so ${limits} on connections (type: connections) would never bind`;
  }
  const needs = perRequestNeeds(route);
  return needs.length === 0 ? undefined : `per-connection picks the instance once per connection, but ${needs.join(' and ')}`;
}

const queue = strictObject({
  limit: z.int().min(0).optional().meta({ description: `at most this many wait (0: turn them away at once); default ${DEFAULT_QUEUE.limit}` }),
  timeout: duration({ positive: true, max: MAX_TIMER_MS })
    .optional()
    .meta({ description: `how long one may wait before it is turned away (HTTP: 503, TCP: closed); default ${formatDuration(DEFAULT_QUEUE.timeoutMs)}` }),
});

/** A queue holds what waits for the hard limit, so it means nothing without one. */
function queueChecks(queue: unknown, hard: unknown): SpecIssue[] {
  if (queue === undefined || hard !== undefined) return [];
  return [{ path: ['queue'], message: 'holds what waits for concurrency.hard, which is not set; set concurrency.hard, or remove queue', atKey: true }];
}

const balancer = z.enum(BALANCERS);

/** The limits as written, without the ones left out. */
function limitsOf(limits: ConnectionLimits): ConnectionLimits {
  return { ...(limits.soft === undefined ? {} : { soft: limits.soft }), ...(limits.hard === undefined ? {} : { hard: limits.hard }) };
}

function queueOf(queue: RouteQueue): RouteQueue {
  return { ...(queue.limit === undefined ? {} : { limit: queue.limit }), ...(queue.timeout === undefined ? {} : { timeout: queue.timeout }) };
}

const httpRouteFields = {
  host: host.meta({ description: 'the Host requests carry, e.g. app.example.com; a leading "*." label matches every name under it: *.example.com' }),
  path: pathPrefix.default('/'),
  mode: z.enum(ROUTING_MODES).optional().meta({ description: 'per-request or per-connection; default: the one that keeps affinity and limits correct' }),
  balancer: balancer.optional().meta({ description: 'how an instance is picked without affinity; default least-outstanding' }),
  affinity: affinity.optional(),
  concurrency: concurrency.prefault({}),
  queue: queue.optional().meta({ description: 'requests (or connections) waiting while every instance is at concurrency.hard' }),
};

// an HTTP route names the client in headers already (forwarded-headers.ts)
const HTTP_ROUTE_HINTS = {
  proxyProtocol: 'unknown field; an HTTP route already passes the client to the instance in X-Forwarded-For and Forwarded, and proxyProtocol is for tcp routes; remove it',
};

type HttpRouteFields = Partial<Pick<HttpRoute, 'mode' | 'affinity' | 'concurrency' | 'queue'>>;

/** The rules between the fields of an HTTP route, over whichever of them parsed (see rule.ts). */
function httpRouteChecks({ mode, affinity, concurrency, queue }: HttpRouteFields): SpecIssue[] {
  if (concurrency === undefined) return [];
  const issues: SpecIssue[] = [];
  const route = { affinity, concurrency };
  const needs = perRequestNeeds(route);
  if (needs.length > 0 && modeConflict('per-request', route) !== undefined) {
    // no mode serves both (affinity on every request, limits on connections): the route has to
    // change, whatever mode says; unreported, the edge would route per request and never limit
    issues.push({ path: ['concurrency', 'type'], message: `limits on connections need per-connection routing, but ${needs.join(' and ')}; set type: requests, or use affinity: ip` });
  } else if (mode !== undefined) {
    const conflict = modeConflict(mode, route);
    const other = mode === 'per-request' ? 'per-connection' : 'per-request';
    if (conflict !== undefined) issues.push({ path: ['mode'], message: `${conflict}; write mode: ${other}, or remove mode and the edge picks ${other}` });
  }
  issues.push(...queueChecks(queue, concurrency.hard));
  return issues;
}

/** The rules inside an HTTP route, over the input as written. */
export function httpRouteRules(raw: unknown): SpecIssue[] {
  if (!isRecord(raw)) return [];
  return [
    ...(isRecord(raw.concurrency) ? under(['concurrency'], concurrencyChecks(readFields(concurrencyFields, raw.concurrency))) : []),
    ...httpRouteChecks(readFields(httpRouteFields, raw)),
  ];
}

export const httpRouteSchema = strictObject(httpRouteFields, HTTP_ROUTE_HINTS)
  .superRefine((route, ctx) => reportRules(ctx, httpRouteChecks(route)))
  .transform(
    (route): HttpRoute => ({
      host: route.host,
      path: route.path,
      ...(route.mode === undefined ? {} : { mode: route.mode }),
      ...(route.balancer === undefined ? {} : { balancer: route.balancer }),
      ...(route.affinity === undefined ? {} : { affinity: route.affinity }),
      concurrency: { type: route.concurrency.type, ...limitsOf(route.concurrency) },
      ...(route.queue === undefined ? {} : { queue: queueOf(route.queue) }),
    }),
  );

/** What makes two HTTP routes clash, read without the rest of the route (whose errors are reported on their own). */
export const httpRouteKeySchema = z.object({ host, path: pathPrefix.default('/') });

/** Why an affinity other than `ip` cannot work on a TCP route, and what to write instead. */
function tcpAffinityMessage(input: unknown): string {
  const kind = isRecord(input) ? (input.cookie !== undefined ? 'cookie' : input.header !== undefined ? 'header' : input.type) : input;
  const fix = 'write affinity: ip to keep a client address on one instance, or remove affinity';
  // the parsed form, as `berth validate --json` and the route table show it
  if (isRecord(input) && kind === 'ip') return 'is written as one word; write affinity: ip';
  if (kind === 'cookie') return `cookie affinity needs HTTP answers to carry the cookie, and a TCP connection has none; ${fix}`;
  if (kind === 'header') return `header affinity reads an HTTP request header, and a TCP connection has none; ${fix}`;
  return `${quote(input)} is not an affinity a TCP route can keep; ${fix}`;
}

const tcpAffinity = z.literal('ip', { error: (issue) => tcpAffinityMessage(issue.input) }).transform((): Extract<Affinity, { type: 'ip' }> => ({ type: 'ip' }));

const tcpConcurrency = strictObject({
  // accepted for a route copied from http:, but a TCP route has only one unit
  type: z.literal('connections', { error: 'a TCP route has no requests to count, only open connections; write type: connections, or remove type' }).optional(),
  ...limitFields,
}).superRefine((limits, ctx) => reportRules(ctx, concurrencyChecks(limits)));

/** What to write instead of a PROXY protocol setting that is not v1 or v2. */
function proxyProtocolMessage(input: unknown): string {
  if (input === true) return 'true does not say which version; write proxyProtocol: v1 or proxyProtocol: v2, whichever the instance reads';
  if (input === false) return 'false is the default; remove proxyProtocol to send no header';
  // the ways HAProxy and other proxies' settings write one
  const written = typeof input === 'string' || typeof input === 'number' ? String(input).toLowerCase() : '';
  const version = ['1', 'v1', 'send-proxy'].includes(written) ? 'v1' : ['2', 'v2', 'send-proxy-v2'].includes(written) ? 'v2' : undefined;
  if (version !== undefined) return `${quote(input)} is written ${version}; write proxyProtocol: ${version}`;
  return `${quote(input)} is not a PROXY protocol version; write v1 (a text line) or v2 (binary), whichever the instance reads`;
}

const proxyProtocol = z.enum(PROXY_PROTOCOL_VERSIONS, { error: (issue) => proxyProtocolMessage(issue.input) });

const tcpRouteFields = {
  port: portNumber,
  idleTimeout: duration({ positive: true, max: MAX_TIMER_MS })
    .optional()
    .meta({ description: `how long a connection may carry no bytes before the edge closes it; default ${formatDuration(DEFAULT_TCP_IDLE_MS)}` }),
  balancer: balancer.optional().meta({ description: 'how an instance is picked for a connection without affinity; default least-outstanding' }),
  affinity: tcpAffinity.optional().meta({ description: 'ip: connections from one client address go to one instance' }),
  concurrency: tcpConcurrency.optional().meta({ description: 'open connections per instance: above soft the edge prefers others, hard is never exceeded' }),
  queue: queue.optional().meta({ description: 'new connections held while every instance is at concurrency.hard (what they send meanwhile goes to the instance first); closed when the queue is full or its timeout passes' }),
  proxyProtocol: proxyProtocol
    .optional()
    .meta({ description: "v1 or v2: each connection to an instance opens with a PROXY protocol header naming the client and the address it connected to (HAProxy's send-proxy, send-proxy-v2); default none" }),
};

// fields users bring over from http: routes or other proxies
const TCP_ROUTE_HINTS = {
  limits: 'unknown field; connection limits are written concurrency: { soft: 50, hard: 100 }',
  mode: 'unknown field; a TCP route picks the instance once per connection, always; remove mode',
};

/** The rules inside a TCP route, over the input as written. */
export function tcpRouteRules(raw: unknown): SpecIssue[] {
  if (!isRecord(raw)) return [];
  const limits = isRecord(raw.concurrency) ? raw.concurrency : undefined;
  // a hard limit written but broken reports its own error; the queue still has one to wait for
  return [...(limits === undefined ? [] : under(['concurrency'], concurrencyChecks(readFields(limitFields, limits)))), ...queueChecks(raw.queue, limits?.hard)];
}

export const tcpRouteSchema = strictObject(tcpRouteFields, TCP_ROUTE_HINTS)
  .superRefine((route, ctx) => reportRules(ctx, queueChecks(route.queue, route.concurrency?.hard)))
  .transform((route): TcpRoute => {
    const limits = route.concurrency === undefined ? {} : limitsOf(route.concurrency);
    return {
      port: route.port,
      ...(route.idleTimeout === undefined ? {} : { idleTimeout: route.idleTimeout }),
      ...(route.balancer === undefined ? {} : { balancer: route.balancer }),
      ...(route.affinity === undefined ? {} : { affinity: route.affinity }),
      // `concurrency: {}` or `{ type: connections }` limits nothing: the same spec as none
      ...(Object.keys(limits).length === 0 ? {} : { concurrency: limits }),
      ...(route.queue === undefined ? {} : { queue: queueOf(route.queue) }),
      ...(route.proxyProtocol === undefined ? {} : { proxyProtocol: route.proxyProtocol }),
    };
  });
