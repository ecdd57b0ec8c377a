// One service of berth.yaml: what to run, what it needs, how it is routed, scaled, deployed and
// stopped. The parsed form holds numbers (bytes, millicores, ms) and every default filled in.
import { z } from 'zod';
import type { Resources } from '../core/resources.js';
import { err, ok, type Result } from '../core/result.js';
import { deployRules, deploySchema, stopSchema, type DeploySpec, type StopSpec } from './deploy.js';
import { dnsLabel, envName, scalarText } from './names.js';
import { placementSchema, type PlacementSpec } from './placement.js';
import { issueMessage } from './issue-message.js';
import { healthSchema, portNumber, probeRules, type Health, type Probe } from './probe.js';
import { cpu, size } from './quantities.js';
import { httpRouteRules, httpRouteSchema, tcpRouteRules, tcpRouteSchema, type HttpRoute, type TcpRoute } from './route.js';
import { isRecord, isRuleIssue, reportRules, under } from './rule.js';
import { scaleRules, scaleSchema, type ScaleSpec } from './scale.js';
import { specIssues, type SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';
import { volumeSchema, type VolumeSpec } from './volume.js';

export const SERVICE_DEFAULTS = { dir: '.', memory: '256Mi', cpu: '250m', replicas: 1 } as const;
/** Below this a Node.js or Python process cannot even start; also the cgroup floor we enforce. */
export const MIN_MEMORY = 4 * 2 ** 20;

export interface ServiceSpec {
  /** shell command that starts one instance; it must listen on $PORT when routed */
  readonly run: string;
  /** directory packed and deployed, relative to berth.yaml */
  readonly dir: string;
  readonly env: Readonly<Record<string, string>>;
  /** names of secrets set with `berth secrets set`, passed as env vars of the same name */
  readonly secrets: readonly string[];
  /** per instance: memory in bytes (hard limit), cpu in millicores */
  readonly resources: Resources;
  /** fixed host ports: the service is `infra` (one instance per host) and $PORT is ports[0] */
  readonly ports: readonly number[];
  readonly health: Health;
  readonly http?: HttpRoute;
  readonly tcp?: TcpRoute;
  /** exactly one of replicas and scale is set */
  readonly replicas?: number;
  readonly scale?: ScaleSpec;
  readonly deploy: DeploySpec;
  readonly stop: StopSpec;
  readonly volumes: readonly VolumeSpec[];
  readonly placement: PlacementSpec;
}

export const serviceNameSchema = dnsLabel('service');

const describe = <T extends z.ZodType>(schema: T, description: string): T => schema.meta({ description });

const fields = strictObject({
  run: describe(
    z.string().trim().min(1, { error: 'is empty; write the command that starts an instance, e.g. run: node server.js' }),
    'shell command that starts one instance; a routed service listens on $PORT',
  ),
  dir: describe(z.string().min(1).default(SERVICE_DEFAULTS.dir), 'directory deployed with the service, relative to berth.yaml'),
  env: describe(z.record(envName, scalarText).default({}), 'environment variables; PORT and BERTH_* are set by berth'),
  secrets: describe(z.array(envName).default([]), 'names of secrets (berth secret set) passed as env vars'),
  resources: describe(
    strictObject({
      memory: size(MIN_MEMORY).prefault(SERVICE_DEFAULTS.memory),
      cpu: cpu().prefault(SERVICE_DEFAULTS.cpu),
    }).prefault({}),
    'per instance: memory is a hard limit, cpu is shared (oversubscribed)',
  ),
  ports: describe(z.array(portNumber).default([]), 'fixed host ports; the service runs at most one instance per host and $PORT is the first'),
  health: describe(healthSchema.prefault({}), 'ready: when the edge routes to an instance; live: when the agent restarts it'),
  http: describe(httpRouteSchema.optional(), 'route HTTP requests for a host (and path prefix) to this service'),
  tcp: describe(tcpRouteSchema.optional(), 'route TCP connections on an edge port to this service'),
  replicas: describe(z.int().min(0).optional(), 'fixed instance count (default 1); or use scale'),
  scale: describe(scaleSchema.optional(), 'autoscale between min and max toward a per-instance target'),
  deploy: describe(deploySchema.prefault({}), 'how a new release replaces the running one'),
  stop: describe(stopSchema.prefault({}), 'how an instance is stopped'),
  volumes: describe(z.array(volumeSchema).default([]), 'persistent volumes; pins instances to the volume host'),
  placement: describe(placementSchema.prefault({}), 'which hosts may run the instances'),
});

/** The index of every repeat of an earlier value; absent values (undefined) never repeat. */
function repeats(values: readonly unknown[]): number[] {
  const seen = new Set<unknown>();
  const out: number[] = [];
  values.forEach((value, i) => {
    if (value === undefined) return;
    if (seen.has(value)) out.push(i);
    else seen.add(value);
  });
  return out;
}

/** Rules between fields of one service, over its fields as written or as parsed (see rule.ts). */
function serviceRules(raw: unknown): SpecIssue[] {
  if (!isRecord(raw)) return [];
  const issues: SpecIssue[] = [];
  if (raw.replicas !== undefined && raw.scale !== undefined) {
    issues.push({ path: ['scale'], message: 'replicas and scale are both set; keep replicas for a fixed count or scale for autoscaling', atKey: true });
  }
  if (raw.http !== undefined && raw.tcp !== undefined) {
    issues.push({ path: ['tcp'], message: 'http and tcp are both set, but an instance has one $PORT; keep one route', atKey: true });
  }
  const ports = Array.isArray(raw.ports) ? raw.ports.filter((p): p is number => typeof p === 'number') : [];
  for (const i of repeats(Array.isArray(raw.ports) ? raw.ports : [])) {
    issues.push({ path: ['ports', i], message: `port ${String((raw.ports as unknown[])[i])} is listed twice; remove one` });
  }
  if (Array.isArray(raw.secrets)) {
    for (const i of repeats(raw.secrets)) issues.push({ path: ['secrets', i], message: `secret ${String(raw.secrets[i])} is listed twice; remove one` });
    raw.secrets.forEach((name, i) => {
      if (isRecord(raw.env) && typeof name === 'string' && name in raw.env) {
        issues.push({ path: ['secrets', i], message: `${name} is both in env and a secret; remove it from env` });
      }
    });
  }
  if (Array.isArray(raw.volumes)) {
    const names = raw.volumes.map((v) => (isRecord(v) ? v.name : undefined));
    const mounts = raw.volumes.map((v) => (isRecord(v) ? v.mount : undefined));
    for (const i of repeats(names)) issues.push({ path: ['volumes', i, 'name'], message: `volume ${String(names[i])} is listed twice; rename or remove one` });
    for (const i of repeats(mounts)) issues.push({ path: ['volumes', i, 'mount'], message: `${String(mounts[i])} is mounted twice; mount each volume at its own path` });
  }
  if (isRecord(raw.health)) {
    for (const which of ['ready', 'live'] as const) {
      const probe = raw.health[which];
      if (!isRecord(probe) || typeof probe.port !== 'number' || ports.includes(probe.port)) continue;
      const fix = ports.length === 0 ? 'remove port to probe $PORT' : `remove port to probe $PORT (${ports[0]}) or use one of ports: ${[...new Set(ports)].join(', ')}`;
      issues.push({ path: ['health', which, 'port'], message: `port ${probe.port} is not this service's; ${fix}` });
    }
  }
  return issues;
}

/** A routed service with no ready probe is routed to once its port accepts connections. */
const DEFAULT_READY: Probe = { type: 'tcp', interval: 10_000, timeout: 2_000, failures: 3, initialDelay: 0 };

/** Every rule of a service and of the objects in it, over the input as written. */
export function serviceRuleIssues(raw: unknown): SpecIssue[] {
  if (!isRecord(raw)) return [];
  const health = isRecord(raw.health) ? raw.health : {};
  return [
    ...serviceRules(raw),
    ...under(['health', 'ready'], probeRules(health.ready)),
    ...under(['health', 'live'], probeRules(health.live)),
    ...under(['http'], httpRouteRules(raw.http)),
    ...under(['tcp'], tcpRouteRules(raw.tcp)),
    ...under(['scale'], scaleRules(raw.scale)),
    ...under(['deploy'], deployRules(raw.deploy)),
  ];
}

export const serviceSpecSchema = fields
  .superRefine((service, ctx) => reportRules(ctx, serviceRules(service)))
  .transform((s): ServiceSpec => {
    const routed = s.http !== undefined || s.tcp !== undefined;
    const ready = s.health.ready ?? (routed ? DEFAULT_READY : undefined);
    return {
      run: s.run,
      dir: s.dir,
      env: s.env,
      secrets: s.secrets,
      resources: s.resources,
      ports: s.ports,
      health: { ...(ready === undefined ? {} : { ready }), ...(s.health.live === undefined ? {} : { live: s.health.live }) },
      ...(s.http === undefined ? {} : { http: s.http }),
      ...(s.tcp === undefined ? {} : { tcp: s.tcp }),
      ...(s.scale === undefined ? { replicas: s.replicas ?? SERVICE_DEFAULTS.replicas } : { scale: s.scale }),
      deploy: s.deploy,
      stop: s.stop,
      volumes: s.volumes,
      placement: s.placement,
    };
  });

/**
 * Checks one service given as data (an API payload, a stored spec), with the same messages
 * as berth.yaml; paths start at the service.
 */
export function checkServiceSpec(data: unknown): Result<ServiceSpec, SpecIssue[]> {
  const result = serviceSpecSchema.safeParse(data, { error: issueMessage, reportInput: true });
  if (result.success) return ok(result.data);
  return err([...specIssues(result.error.issues.filter((issue) => !isRuleIssue(issue))), ...serviceRuleIssues(data)]);
}

/** A service with the name it has in berth.yaml (the key of its entry). */
export type NamedServiceSpec = ServiceSpec & { readonly name: string };
