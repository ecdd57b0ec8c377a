// Health probes: `ready` decides whether the edge routes to an instance, `live` whether the agent
// restarts it. Both share one shape, told apart by `type`.
import { z } from 'zod';
import { formatDuration } from '../core/quantity.js';
import { duration } from './quantities.js';
import { isRecord, readFields, reportRules } from './rule.js';
import type { SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';

export const PROBE_DEFAULTS = { interval: '10s', timeout: '2s', failures: 3, initialDelay: '0s', path: '/' } as const;

interface ProbeTiming {
  /** ms between probes */
  readonly interval: number;
  /** ms a probe may take before it counts as failed */
  readonly timeout: number;
  /** consecutive failures before the instance is not ready (or is restarted) */
  readonly failures: number;
  /** ms after start before the first probe */
  readonly initialDelay: number;
}

export type Probe = ProbeTiming &
  (
    | { readonly type: 'http'; readonly path: string; /** omitted: the instance's $PORT */ readonly port?: number }
    | { readonly type: 'tcp'; /** omitted: the instance's $PORT */ readonly port?: number }
    | { readonly type: 'exec'; readonly command: string }
  );

export const portNumber = z.int().min(1).max(65535);

// Which probe type owns each type-specific field, to name the fix when one is misplaced.
const OWNERS = { path: ['http'], port: ['http', 'tcp'], command: ['exec'] } as const;

// `ready: { http: { path: /healthz } }` names the kind by key; say how berth names it instead.
const kindAsKey = (kind: string, rest: string): string => `a probe names its kind with type; write { type: ${kind}${rest} }`;
const PROBE_HINTS = {
  http: kindAsKey('http', ', path: /healthz'),
  tcp: kindAsKey('tcp', ''),
  exec: kindAsKey('exec', ', command: ./check.sh'),
};

const probeFields = {
  type: z.enum(['http', 'tcp', 'exec']),
  path: z.string().startsWith('/', { error: (i) => `"${String(i.input)}" is not a path; write it from the root, e.g. /healthz` }).optional(),
  port: portNumber.optional(),
  command: z.string().min(1).optional(),
  interval: duration({ positive: true }).prefault(PROBE_DEFAULTS.interval),
  timeout: duration({ positive: true }).prefault(PROBE_DEFAULTS.timeout),
  failures: z.int().min(1).max(100).default(PROBE_DEFAULTS.failures),
  initialDelay: duration({ positive: false }).prefault(PROBE_DEFAULTS.initialDelay),
};

/** What the rules read: the type and timing as parsed; only whether path, port and command are given. */
type ProbeFields = { type?: Probe['type']; path?: unknown; port?: unknown; command?: unknown; interval?: number; timeout?: number };

/** The rules between the fields of a probe, over whichever of them parsed (see rule.ts). */
function probeChecks(probe: ProbeFields): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (probe.type !== undefined) {
    for (const [field, owners] of Object.entries(OWNERS)) {
      if (probe[field as keyof typeof OWNERS] !== undefined && !(owners as readonly string[]).includes(probe.type)) {
        issues.push({ path: [field], message: `a ${probe.type} probe has no ${field}; remove it, or set type: ${owners.join(' or ')}` });
      }
    }
    if (probe.type === 'exec' && probe.command === undefined) {
      issues.push({ path: ['command'], message: 'an exec probe needs a command; add e.g. command: pg_isready' });
    }
  }
  if (probe.timeout !== undefined && probe.interval !== undefined && probe.timeout > probe.interval) {
    issues.push({
      path: ['timeout'],
      message: `${formatDuration(probe.timeout)} is longer than the interval of ${formatDuration(probe.interval)}; lower the timeout or raise the interval`,
    });
  }
  return issues;
}

export const probeRules = (raw: unknown): SpecIssue[] =>
  isRecord(raw) ? probeChecks({ ...readFields(probeFields, raw), path: raw.path, port: raw.port, command: raw.command }) : [];

export const probeSchema = strictObject(probeFields, PROBE_HINTS)
  .superRefine((probe, ctx) => reportRules(ctx, probeChecks(probe)))
  .transform((probe): Probe => {
    const timing = { interval: probe.interval, timeout: probe.timeout, failures: probe.failures, initialDelay: probe.initialDelay };
    switch (probe.type) {
      case 'http':
        return { type: 'http', path: probe.path ?? PROBE_DEFAULTS.path, ...(probe.port === undefined ? {} : { port: probe.port }), ...timing };
      case 'tcp':
        return { type: 'tcp', ...(probe.port === undefined ? {} : { port: probe.port }), ...timing };
      case 'exec':
        return { type: 'exec', command: probe.command ?? '', ...timing };
    }
  })
  // one definition in the JSON Schema for both ready and live
  .meta({ id: 'HealthProbe' });

export interface Health {
  /** routed to only while this passes; when omitted on a routed service, a tcp probe of $PORT */
  readonly ready?: Probe;
  /** restarted when this fails `failures` times in a row */
  readonly live?: Probe;
}

// A probe written straight under health (`health: { http: { path: /healthz } }`) is the
// commonest slip; say where it goes instead of listing ready and live.
const misplaced = (example: string): string => `a probe goes under ready (routing) or live (restarts); write health: { ready: ${example} }`;
const HEALTH_HINTS = {
  type: misplaced('{ type: http, path: /healthz }'),
  http: misplaced('{ type: http, path: /healthz }'),
  path: misplaced('{ type: http, path: /healthz }'),
  tcp: misplaced('{ type: tcp }'),
  exec: misplaced('{ type: exec, command: ./check.sh }'),
  command: misplaced('{ type: exec, command: ./check.sh }'),
};

export const healthSchema = strictObject({ ready: probeSchema.optional(), live: probeSchema.optional() }, HEALTH_HINTS);
