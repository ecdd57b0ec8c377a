// `berth sim check`: verifies a plan against its fleet and workload with its own arithmetic,
// sharing no code with the scheduler (only the size parser of core), so a scheduler bug
// cannot hide behind the code that was meant to catch it.
//
// Checked: every instance of the workload placed exactly once or reported unplaceable with a
// reason; only schedulable hosts used; memory within physical − reserved − safety buffer; CPU
// within cores × cpu_overcommit_ratio; region, cluster and label constraints; volume locality;
// fixed host ports; replica spread; and no instance reported unplaceable that a host could
// still take at the end.
import { formatCpus, humanSize, parseCpu, parseSize } from '../core/quantity.js';
import type { FleetFile } from './fleet-file.js';
import type { PlanFile } from './plan-file.js';
import type { WorkloadFile } from './workload-file.js';

export type ViolationKind =
  | 'unknown-service'
  | 'unknown-replica'
  | 'duplicate'
  | 'missing'
  | 'no-reason'
  | 'unknown-host'
  | 'host-state'
  | 'memory'
  | 'cpu'
  | 'constraint'
  | 'volume'
  | 'ports'
  | 'spread'
  | 'missed-fit';

export interface Violation {
  readonly kind: ViolationKind;
  readonly instance?: string;
  readonly host?: string;
  readonly message: string;
}

export interface CheckReport {
  readonly placements: number;
  readonly unplaceable: number;
  readonly violations: Violation[];
  /** Violations beyond the first `limit` are counted, not listed. */
  readonly violationCount: number;
}

interface HostBook {
  readonly id: string;
  readonly state: string;
  readonly region: string;
  readonly cluster: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly memoryLimit: number;
  readonly cpuLimit: number;
  memoryUsed: number;
  cpuUsed: number;
  readonly ports: Set<number>;
  /** service -> replicas on this host */
  readonly replicas: Map<string, number>;
}

interface ServiceBook {
  readonly name: string;
  readonly replicas: number;
  readonly memory: number;
  readonly cpu: number;
  readonly ports: readonly number[];
  readonly volume: string | undefined;
  readonly region: string | undefined;
  readonly cluster: string | undefined;
  readonly labels: Readonly<Record<string, string>>;
  /** 0 unseen, 1 placed, 2 unplaceable */
  readonly seen: Uint8Array;
  /** The most replicas a target host already held when an unpinned replica was placed on it. */
  spreadHigh: number;
  /** An unplaceable replica that no pinned volume explains, for the missed-fit check. */
  freeUnplaceable: number;
}

const num = (r: { ok: true; value: number } | { ok: false; error: string }): number => (r.ok ? r.value : NaN);

export function checkPlan(fleet: FleetFile, workload: WorkloadFile, plan: PlanFile, limit = 100): CheckReport {
  const violations: Violation[] = [];
  let violationCount = 0;
  const report = (v: Violation): void => {
    violationCount++;
    if (violations.length < limit) violations.push(v);
  };

  const ratio = new Map<string, number>();
  for (const c of fleet.clusters ?? []) ratio.set(c.name, c.cpu_overcommit_ratio ?? 4);
  const firstCluster = fleet.clusters?.[0]?.name ?? 'default';

  const hosts = new Map<string, HostBook>();
  for (const h of fleet.hosts) {
    const cluster = h.cluster ?? firstCluster;
    const physical = num(parseSize(h.memory));
    const reserved = h.reserved === undefined ? 0 : num(parseSize(h.reserved));
    const buffer = h.safety_buffer === undefined ? 0 : num(parseSize(h.safety_buffer));
    hosts.set(h.id, {
      id: h.id,
      state: h.state ?? 'schedulable',
      region: h.region,
      cluster,
      labels: h.labels ?? {},
      memoryLimit: physical - reserved - buffer,
      cpuLimit: h.cores * 1000 * (ratio.get(cluster) ?? 4),
      memoryUsed: 0,
      cpuUsed: 0,
      ports: new Set(h.ports ?? []),
      replicas: new Map(),
    });
  }
  const volumes = new Map<string, string>();
  for (const v of fleet.volumes ?? []) volumes.set(v.name, v.host);
  for (const i of fleet.instances ?? []) {
    const host = hosts.get(i.host);
    if (host === undefined) continue;
    host.memoryUsed += num(parseSize(i.memory));
    host.cpuUsed += num(parseCpu(i.cpu));
    for (const p of i.ports ?? []) host.ports.add(p);
    host.replicas.set(i.service, (host.replicas.get(i.service) ?? 0) + 1);
    if (i.volume !== undefined) volumes.set(i.volume, i.host);
  }
  const memoryBefore = new Map<string, number>();
  for (const h of hosts.values()) memoryBefore.set(h.id, h.memoryUsed);

  const services = new Map<string, ServiceBook>();
  for (const s of workload.services) {
    services.set(s.name, {
      name: s.name,
      replicas: s.replicas,
      memory: num(parseSize(s.memory)),
      cpu: num(parseCpu(s.cpu)),
      ports: s.ports ?? [],
      volume: s.volume,
      region: s.region,
      cluster: s.cluster,
      labels: s.labels ?? {},
      seen: new Uint8Array(s.replicas),
      spreadHigh: 0,
      freeUnplaceable: -1,
    });
  }
  const volumeOf = (s: ServiceBook, replica: number): string | undefined =>
    s.volume === undefined ? undefined : `${s.name}-${s.volume}-${replica}`;

  const inScope = (s: ServiceBook, h: HostBook): boolean => {
    if (s.region !== undefined && h.region !== s.region) return false;
    if (s.cluster !== undefined && h.cluster !== s.cluster) return false;
    for (const key of Object.keys(s.labels)) if (h.labels[key] !== s.labels[key]) return false;
    return true;
  };
  /** How `h` misses the service's region, cluster and labels, each as `is in region eu (needs us)`. */
  const outOfScope = (s: ServiceBook, h: HostBook): string[] => {
    const misses: string[] = [];
    if (s.region !== undefined && h.region !== s.region) misses.push(`is in region ${h.region} (needs ${s.region})`);
    if (s.cluster !== undefined && h.cluster !== s.cluster) misses.push(`is in cluster ${h.cluster} (needs ${s.cluster})`);
    for (const [key, value] of Object.entries(s.labels)) {
      const has = h.labels[key];
      if (has !== value) misses.push(has === undefined ? `lacks label ${key}=${value}` : `has label ${key}=${has} (needs ${key}=${value})`);
    }
    return misses;
  };
  /** Could `h`, as it stands now, take one more replica of `s` (spread aside)? */
  const couldTake = (s: ServiceBook, h: HostBook): boolean =>
    h.state === 'schedulable' &&
    inScope(s, h) &&
    h.memoryLimit - h.memoryUsed >= s.memory &&
    h.cpuLimit - h.cpuUsed >= s.cpu &&
    s.ports.every((p) => !h.ports.has(p));

  const mark = (service: string, replica: number, as: 1 | 2): ServiceBook | undefined => {
    const s = services.get(service);
    const instance = `${service}/${replica}`;
    if (s === undefined) {
      report({ kind: 'unknown-service', instance, message: `${instance}: service ${service} is not in the workload` });
      return undefined;
    }
    if (replica >= s.replicas) {
      report({ kind: 'unknown-replica', instance, message: `${instance}: the workload asks for ${s.replicas} replicas of ${service}` });
      return undefined;
    }
    if (s.seen[replica] !== 0) {
      report({ kind: 'duplicate', instance, message: `${instance} appears more than once in the plan` });
      return undefined;
    }
    s.seen[replica] = as;
    return s;
  };

  for (const p of plan.placements) {
    const s = mark(p.service, p.replica, 1);
    if (s === undefined) continue;
    const instance = `${p.service}/${p.replica}`;
    const h = hosts.get(p.host);
    if (h === undefined) {
      report({ kind: 'unknown-host', instance, host: p.host, message: `${instance} is placed on ${p.host}, which is not in the fleet` });
      continue;
    }
    if (h.state !== 'schedulable') {
      report({ kind: 'host-state', instance, host: h.id, message: `${instance} is placed on ${h.id}, which is ${h.state}` });
    }
    if (!inScope(s, h)) {
      report({ kind: 'constraint', instance, host: h.id, message: `${instance} is placed on ${h.id}, which ${outOfScope(s, h).join(', ')}` });
    }
    const volume = volumeOf(s, p.replica);
    const home = volume === undefined ? undefined : volumes.get(volume);
    if (volume !== undefined) {
      if (home !== undefined && home !== h.id) {
        report({ kind: 'volume', instance, host: h.id, message: `${instance} is placed on ${h.id} but its volume ${volume} lives on ${home}` });
      }
      if (home === undefined) volumes.set(volume, h.id);
    }
    for (const port of s.ports) {
      if (h.ports.has(port)) report({ kind: 'ports', instance, host: h.id, message: `${instance} needs port ${port} on ${h.id}, which is already taken` });
      h.ports.add(port);
    }
    const before = h.replicas.get(s.name) ?? 0;
    if (home === undefined) s.spreadHigh = Math.max(s.spreadHigh, before);
    h.replicas.set(s.name, before + 1);
    h.memoryUsed += s.memory;
    h.cpuUsed += s.cpu;
  }

  for (const u of plan.unplaceable) {
    const s = mark(u.service, u.replica, 2);
    if (s === undefined) continue;
    const instance = `${u.service}/${u.replica}`;
    if (u.reasons.length === 0 || u.reasons.some((r) => r.message.trim() === '')) {
      report({ kind: 'no-reason', instance, message: `${instance} is reported unplaceable without a reason` });
    }
    const volume = volumeOf(s, u.replica);
    const home = volume === undefined ? undefined : volumes.get(volume);
    if (home !== undefined) {
      const h = hosts.get(home);
      if (h !== undefined && couldTake(s, h)) {
        report({ kind: 'missed-fit', instance, host: h.id, message: `${instance} is reported unplaceable, yet its volume's host ${h.id} can take it` });
      }
    } else if (s.freeUnplaceable < 0) {
      s.freeUnplaceable = u.replica;
    }
  }

  for (const s of services.values()) {
    for (let r = 0; r < s.replicas; r++) {
      if (s.seen[r] === 0) report({ kind: 'missing', instance: `${s.name}/${r}`, message: `${s.name}/${r} is neither placed nor reported unplaceable` });
    }
  }

  for (const h of hosts.values()) {
    // only what the plan added can break a limit: a fleet that starts over is not the plan's fault
    const added = h.memoryUsed - memoryBefore.get(h.id)!;
    if (added > 0 && h.memoryUsed > h.memoryLimit) {
      report({ kind: 'memory', host: h.id, message: `${h.id}: ${humanSize(h.memoryUsed)} placed, over its allocatable ${humanSize(h.memoryLimit)} (${h.memoryUsed} > ${h.memoryLimit} bytes)` });
    }
    if (added > 0 && h.cpuUsed > h.cpuLimit) {
      const [placed, limit] = formatCpus(h.cpuUsed, Math.floor(h.cpuLimit));
      report({ kind: 'cpu', host: h.id, message: `${h.id}: ${placed} CPU placed, over cores × cpu_overcommit_ratio = ${limit}` });
    }
  }

  // Capacity only shrinks while a plan is made, so a host that could take a replica at the end
  // could take it at any earlier moment too. Hence two sound checks on the final state:
  // a replica reported unplaceable that a host could take, and a replica placed on a host
  // already holding k replicas while a host that holds fewer than k could take one.
  for (const s of services.values()) {
    if (s.freeUnplaceable < 0 && s.spreadHigh === 0) continue;
    for (const h of hosts.values()) {
      if (!couldTake(s, h)) continue;
      if (s.freeUnplaceable >= 0) {
        const instance = `${s.name}/${s.freeUnplaceable}`;
        report({ kind: 'missed-fit', instance, host: h.id, message: `${instance} is reported unplaceable, yet ${h.id} can take it` });
        break;
      }
      const held = h.replicas.get(s.name) ?? 0;
      if (held < s.spreadHigh) {
        report({
          kind: 'spread',
          host: h.id,
          message: `${s.name}: a replica went to a host already holding ${s.spreadHigh}, while ${h.id} holds ${held} and can take one`,
        });
        break;
      }
    }
  }

  return { placements: plan.placements.length, unplaceable: plan.unplaceable.length, violations, violationCount };
}
