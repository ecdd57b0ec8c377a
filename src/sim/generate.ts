// A seeded fleet and workload: heterogeneous hosts (16, 64 and 256 GiB; 4 to 64 cores) over
// regions and zones, a few cordoned, draining or lost; services with skewed replica counts and
// sizes, some with volumes, some with fixed host ports, some needing SSD hosts. The workload
// asks for about `fill` of the fleet's free schedulable memory. Profiles build the adversarial
// fleets the property tests need.
import { formatCpu, formatSize } from '../core/quantity.js';
import { seededRandom, type Random } from '../core/random.js';
import type { FleetFile, HostEntry, InstanceEntry } from './fleet-file.js';
import { volumeName, type ServiceEntry, type WorkloadFile } from './workload-file.js';

export type Profile = 'mixed' | 'almost-full' | 'one-huge-host' | 'one-schedulable';
export const PROFILES: readonly Profile[] = ['mixed', 'almost-full', 'one-huge-host', 'one-schedulable'];

export interface GenerateOptions {
  readonly hosts: number;
  readonly instances: number;
  readonly seed: number | string;
  /** Memory the workload asks for, as a fraction of the free memory of schedulable hosts (default 0.7; 1.2 for almost-full). */
  readonly fill?: number;
  readonly profile?: Profile;
}

export interface Generated {
  readonly fleet: FleetFile;
  readonly workload: WorkloadFile;
}

const MI = 2 ** 20;
const GI = 2 ** 30;

interface HostClass {
  readonly name: string;
  readonly share: number;
  readonly memory: number;
  readonly reserved: number;
  readonly buffer: number;
  readonly cores: readonly number[];
}

const CLASSES: readonly HostClass[] = [
  { name: 'small', share: 0.5, memory: 16 * GI, reserved: GI, buffer: 512 * MI, cores: [4, 8] },
  { name: 'medium', share: 0.35, memory: 64 * GI, reserved: 2 * GI, buffer: GI, cores: [16, 24, 32] },
  { name: 'large', share: 0.15, memory: 256 * GI, reserved: 4 * GI, buffer: 2 * GI, cores: [32, 48, 64] },
];
const HUGE: HostClass = { name: 'huge', share: 0, memory: 4096 * GI, reserved: 16 * GI, buffer: 16 * GI, cores: [512] };
const TINY: HostClass = { name: 'tiny', share: 0, memory: 4 * GI, reserved: 512 * MI, buffer: 256 * MI, cores: [2] };

const LEAVING_STATES = ['cordoned', 'draining', 'lost', 'decommissioned'] as const;
/** Infra services bind one of these host ports; 9100 collides with the node exporter some hosts run. */
const INFRA_PORT_BASE = 9100;
const INFRA_PORTS = 100;

interface HostDraft {
  readonly entry: HostEntry;
  readonly allocatable: number;
  readonly schedulable: boolean;
  used: number;
}

function pickClass(rng: Random): HostClass {
  const r = rng.next();
  let acc = 0;
  for (const c of CLASSES) if (r < (acc += c.share)) return c;
  return CLASSES[CLASSES.length - 1]!;
}

function pickState(rng: Random): NonNullable<HostEntry['state']> {
  const r = rng.next();
  if (r < 0.96) return 'schedulable';
  if (r < 0.98) return 'cordoned';
  if (r < 0.99) return 'draining';
  if (r < 0.995) return 'lost';
  return 'decommissioned';
}

function generateHosts(options: GenerateOptions, rng: Random): HostDraft[] {
  const n = options.hosts;
  const profile = options.profile ?? 'mixed';
  const regions = n >= 4 ? [{ name: 'eu', weight: 0.6 }, { name: 'us', weight: 0.4 }] : [{ name: 'eu', weight: 1 }];
  const pad = Math.max(4, String(n).length);
  const onlySchedulable = profile === 'one-schedulable' ? rng.int(n) : -1;
  const drafts: HostDraft[] = [];
  // zones take turns per region and host class, so each zone has about the same capacity, as
  // a provider's zones do; then an even spread shows as even counts per zone
  const turns = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const region = rng.next() < regions[0]!.weight ? regions[0]!.name : regions[regions.length - 1]!.name;
    const cls = profile === 'one-huge-host' ? (i === 0 ? HUGE : TINY) : pickClass(rng);
    const turn = turns.get(`${region}/${cls.name}`) ?? rng.int(3);
    turns.set(`${region}/${cls.name}`, turn + 1);
    const zone = `${region}-${'abc'[turn % 3]!}`;
    const state =
      profile === 'one-schedulable' ? (i === onlySchedulable ? 'schedulable' : rng.pick(LEAVING_STATES)) : pickState(rng);
    const number = String(i + 1).padStart(pad, '0');
    const entry: HostEntry = {
      id: `h${number}`,
      name: `${zone}-${number}`,
      region,
      labels: { zone, disk: rng.chance(0.4) ? 'ssd' : 'hdd', class: cls.name },
      state,
      memory: formatSize(cls.memory),
      reserved: formatSize(cls.reserved),
      safety_buffer: formatSize(cls.buffer),
      cores: rng.pick(cls.cores),
      ports: rng.chance(0.2) ? [22, 9100] : [22],
    };
    drafts.push({ entry, allocatable: cls.memory - cls.reserved - cls.buffer, schedulable: state === 'schedulable', used: 0 });
  }
  if (n > 0 && !drafts.some((d) => d.schedulable)) {
    const first = drafts[0]!;
    drafts[0] = { ...first, entry: { ...first.entry, state: 'schedulable' }, schedulable: true };
  }
  return drafts;
}

/** Residents of an almost-full fleet: instances filling each schedulable host to ~95% of its memory. */
function generateResidents(drafts: HostDraft[], rng: Random): InstanceEntry[] {
  const residents: InstanceEntry[] = [];
  for (const d of drafts) {
    if (!d.schedulable) continue;
    while (d.used < 0.95 * d.allocatable) {
      const room = 0.95 * d.allocatable - d.used;
      const size = Math.max(256 * MI, Math.min(rng.pick([GI, 2 * GI, 4 * GI]), Math.floor(room / (256 * MI)) * 256 * MI));
      if (d.used + size > d.allocatable) break;
      d.used += size;
      residents.push({
        id: `resident-${residents.length}`,
        service: `resident-${residents.length % 97}`,
        host: d.entry.id,
        memory: formatSize(size),
        cpu: formatCpu(Math.max(10, Math.round(size / GI) * 100)),
      });
    }
  }
  return residents;
}

interface ServiceDraft {
  readonly name: string;
  readonly replicas: number;
  readonly weight: number;
  readonly cpuPerGi: number;
  readonly region: string;
  readonly ssd: boolean;
  readonly ports: number[] | undefined;
  readonly stateful: boolean;
}

function generateWorkload(
  drafts: readonly HostDraft[],
  options: GenerateOptions,
  rng: Random,
): { services: ServiceEntry[]; volumes: { name: string; host: string }[] } {
  const fill = options.fill ?? (options.profile === 'almost-full' ? 1.2 : 0.7);
  const free = new Map<string, number>();
  const schedulableHosts = new Map<string, number>();
  for (const d of drafts) {
    if (!d.schedulable) continue;
    free.set(d.entry.region, (free.get(d.entry.region) ?? 0) + Math.max(0, d.allocatable - d.used));
    schedulableHosts.set(d.entry.region, (schedulableHosts.get(d.entry.region) ?? 0) + 1);
  }
  const regions = [...free.entries()];
  const totalFree = regions.reduce((s, [, f]) => s + f, 0);
  const pickRegion = (): string => {
    let r = rng.next() * totalFree;
    for (const [name, f] of regions) if ((r -= f) < 0) return name;
    return regions[regions.length - 1]?.[0] ?? 'eu';
  };
  const pad = Math.max(4, String(Math.ceil(options.instances / 2)).length);

  const drafted: ServiceDraft[] = [];
  let remaining = options.instances;
  while (remaining > 0) {
    const region = pickRegion();
    // no service is on more than a quarter of its region's hosts, or replica spread alone
    // would touch every host and no packing could leave hosts empty
    const cap = Math.max(1, Math.floor((schedulableHosts.get(region) ?? 1) / 4));
    const roll = rng.next();
    const stateful = roll < 0.04;
    const infra = !stateful && roll < 0.045;
    const pareto = Math.floor(2 / Math.pow(1 - rng.next(), 1 / 1.4));
    const replicas = Math.min(remaining, stateful ? 1 + rng.int(3) : Math.min(cap, Math.max(1, pareto)));
    remaining -= replicas;
    drafted.push({
      name: `svc-${String(drafted.length + 1).padStart(pad, '0')}`,
      replicas,
      // log-uniform over 1..64: many small services, a long tail of big ones
      weight: Math.pow(64, rng.next()),
      cpuPerGi: rng.chance(0.05) ? 2 : rng.pick([0.125, 0.25, 0.5]),
      region,
      ssd: rng.chance(0.1),
      ports: infra ? [INFRA_PORT_BASE + rng.int(INFRA_PORTS)] : undefined,
      stateful,
    });
  }

  // sizes: scale the weights so the workload asks for `fill` of free memory, rounded to 32Mi;
  // a second pass corrects the drift rounding introduced
  const target = fill * totalFree;
  const step = 32 * MI;
  const round = (bytes: number): number => Math.max(step, Math.round(bytes / step) * step);
  const weighted = drafted.reduce((s, d) => s + d.replicas * d.weight, 0);
  let scale = weighted > 0 ? target / weighted : 0;
  const asked = drafted.reduce((s, d) => s + d.replicas * round(d.weight * scale), 0);
  if (asked > 0) scale *= target / asked;

  const services: ServiceEntry[] = [];
  const volumes: { name: string; host: string }[] = [];
  const homesBy = new Map<string, HostDraft[]>();
  const homesFor = (region: string, ssd: boolean): HostDraft[] => {
    const key = `${region}/${ssd}`;
    let homes = homesBy.get(key);
    if (homes === undefined) {
      homes = drafts.filter((h) => h.schedulable && h.entry.region === region && (!ssd || h.entry.labels?.disk === 'ssd'));
      homesBy.set(key, homes);
    }
    return homes;
  };
  for (const d of drafted) {
    const memory = round(d.weight * scale);
    const cpu = Math.max(10, Math.round(((memory / GI) * d.cpuPerGi * 1000) / 10) * 10);
    const service: ServiceEntry = {
      name: d.name,
      replicas: d.replicas,
      memory: formatSize(memory),
      cpu: formatCpu(cpu),
      region: d.region,
      ...(d.ssd ? { labels: { disk: 'ssd' } } : {}),
      ...(d.ports === undefined ? {} : { ports: d.ports }),
      ...(d.stateful ? { volume: 'data' } : {}),
    };
    services.push(service);
    if (d.stateful) {
      // half the volumes exist already (their data pins the replica); the rest are new
      const homes = homesFor(d.region, d.ssd);
      for (let r = 0; r < d.replicas; r++) {
        if (homes.length > 0 && rng.chance(0.5)) volumes.push({ name: volumeName(d.name, 'data', r), host: rng.pick(homes).entry.id });
      }
    }
  }
  return { services, volumes };
}

export function generate(options: GenerateOptions): Generated {
  const rng = seededRandom(options.seed);
  const drafts = generateHosts(options, rng.fork('hosts'));
  const residents = options.profile === 'almost-full' ? generateResidents(drafts, rng.fork('residents')) : [];
  const { services, volumes } = generateWorkload(drafts, options, rng.fork('workload'));
  return {
    fleet: {
      clusters: [{ name: 'default', cpu_overcommit_ratio: 4, strategy: 'binpack' }],
      hosts: drafts.map((d) => d.entry),
      volumes,
      instances: residents,
    },
    workload: { services },
  };
}
