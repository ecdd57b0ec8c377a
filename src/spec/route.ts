// How the edge reaches a service: an HTTP route (host + path prefix) or a TCP route (a port the
// edge listens on). Both forward to the instance's $PORT.
import { z } from 'zod';
import { portNumber } from './probe.js';
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

export interface HttpRoute {
  readonly host: string;
  /** path prefix, without a trailing slash except for the root */
  readonly path: string;
  readonly affinity?: Affinity;
  readonly concurrency: Concurrency;
}

export interface TcpRoute {
  /** the port the edge listens on */
  readonly port: number;
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const COOKIE_NAME = HEADER_NAME;

const host = z.string().check((ctx) => {
  const text = ctx.value;
  if (HOSTNAME.test(text)) return;
  const bare = text.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/[:/].*$/, '');
  const fix = HOSTNAME.test(bare) ? `write ${bare}` : 'write a host name, e.g. app.example.com';
  ctx.issues.push({ code: 'custom', message: `"${text}" is not a host name (lower case, no scheme, port or path); ${fix}`, input: text });
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

const concurrencyFields = {
  type: z.enum(['requests', 'connections']).default('requests'),
  soft: z.int().min(1).optional(),
  hard: z.int().min(1).optional(),
};

/** The rule between the limits, over whichever of them parsed (see rule.ts). */
function concurrencyChecks({ soft, hard }: { soft?: number; hard?: number }): SpecIssue[] {
  if (soft === undefined || hard === undefined || soft <= hard) return [];
  return [{ path: ['soft'], message: `soft limit ${soft} is above the hard limit ${hard}; lower soft or raise hard` }];
}

/** The rules inside an HTTP route, over the input as written. */
export const httpRouteRules = (raw: unknown): SpecIssue[] =>
  isRecord(raw) && isRecord(raw.concurrency) ? under(['concurrency'], concurrencyChecks(readFields(concurrencyFields, raw.concurrency))) : [];

const concurrency = strictObject(concurrencyFields).superRefine((limits, ctx) => reportRules(ctx, concurrencyChecks(limits)));

export const httpRouteSchema = strictObject({
  host,
  path: pathPrefix.default('/'),
  affinity: affinity.optional(),
  concurrency: concurrency.prefault({}),
}).transform(
  (route): HttpRoute => ({
    host: route.host,
    path: route.path,
    ...(route.affinity === undefined ? {} : { affinity: route.affinity }),
    concurrency: {
      type: route.concurrency.type,
      ...(route.concurrency.soft === undefined ? {} : { soft: route.concurrency.soft }),
      ...(route.concurrency.hard === undefined ? {} : { hard: route.concurrency.hard }),
    },
  }),
);

/** What makes two HTTP routes clash, read without the rest of the route (whose errors are reported on their own). */
export const httpRouteKeySchema = z.object({ host, path: pathPrefix.default('/') });

export const tcpRouteSchema = strictObject({ port: portNumber });
