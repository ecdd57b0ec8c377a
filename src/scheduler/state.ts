// The fleet as the pipeline sees it while placing: per-host figures in typed arrays, replica
// counters, and the free-memory index, all updated incrementally by `commit` so a batch never
// re-scans the instances it already placed.
import { seededRandom } from '../core/random.js';
import { allocatableMemory, DEFAULT_CPU_OVERCOMMIT, HOST_STATES, type Fleet, type Host, type Strategy } from './fleet.js';
import { FreeIndex } from './free-index.js';
import { Interner } from './interner.js';
import { ReplicaCounts } from './replica-counts.js';

export const SCHEDULABLE = HOST_STATES.indexOf('schedulable');

export interface StateOptions {
  /** Seeds the host order (ties between equally good hosts); the same seed replays the same plan. */
  readonly seed?: number | string;
  /** Overrides every cluster's strategy (the simulator's `--strategy`). */
  readonly strategy?: Strategy;
}

/** Hosts of one cluster, region and zone: the unit the index walks and the rankers compare across. */
export interface Partition {
  readonly cluster: number;
  readonly region: number;
  readonly zone: number;
  /** Walk the index from the emptiest host down instead of from the tightest fit up. */
  readonly spread: boolean;
}

/** What `commit` needs to know about the instance it records. */
export interface Commitment {
  readonly service: number;
  readonly memory: number;
  readonly cpu: number;
  readonly ports: readonly number[];
}

export class PlacementState {
  readonly hostCount: number;
  readonly hostIds = new Map<string, number>();
  readonly stateCode: Uint8Array;
  readonly region: Int32Array;
  readonly cluster: Int32Array;
  /** Interned `zone` label, -1 for a host without one. */
  readonly zone: Int32Array;
  readonly allocatable: Float64Array;
  readonly freeMemory: Float64Array;
  readonly cpuCapacity: Float64Array;
  readonly freeCpu: Float64Array;
  /** 1 where the host's cluster uses the spread strategy. */
  readonly spreads: Uint8Array;
  readonly usedPorts: (Set<number> | undefined)[];
  readonly regions = new Interner();
  readonly clusters = new Interner();
  readonly zones = new Interner();
  readonly services = new Interner();
  readonly partitions: Partition[] = [];
  /** Volume name -> host index. */
  readonly volumes = new Map<string, number>();
  /**
   * Partition p of `partitions` holds its hosts with instances under index partition p and
   * its empty hosts under `partitions.length + p`: bin-pack opens an empty host only when no
   * host in use fits, so the hosts an operator can turn off stay empty.
   */
  readonly index: FreeIndex;
  /** 1 while the host holds no instance. */
  readonly empty: Uint8Array;
  /** The partition of each host (an index into `partitions`). */
  readonly partitionOf: Int32Array;
  /** Counts commits, so a compiled request can tell whether anything but itself changed the fleet. */
  epoch = 0;
  /** Host indexes in the seeded order the index was filled in. */
  readonly order: Int32Array;
  private readonly replicas: ReplicaCounts;
  /** (service, zone) -> replicas, at `service * zoneSlots + zone + 1`; grown as services appear. */
  private zoneReplicas = new Int32Array(0);
  private readonly zoneSlots: number;
  private serviceTotals = new Int32Array(0);

  constructor(
    readonly fleet: Fleet,
    options: StateOptions = {},
  ) {
    const hosts = fleet.hosts;
    const n = hosts.length;
    this.hostCount = n;
    this.stateCode = new Uint8Array(n);
    this.region = new Int32Array(n);
    this.cluster = new Int32Array(n);
    this.zone = new Int32Array(n);
    this.allocatable = new Float64Array(n);
    this.freeMemory = new Float64Array(n);
    this.cpuCapacity = new Float64Array(n);
    this.freeCpu = new Float64Array(n);
    this.spreads = new Uint8Array(n);
    this.empty = new Uint8Array(n).fill(1);
    this.partitionOf = new Int32Array(n);
    this.usedPorts = new Array<Set<number> | undefined>(n).fill(undefined);
    this.replicas = new ReplicaCounts(fleet.instances.length);

    const ratio = new Map<string, number>();
    const strategy = new Map<string, Strategy>();
    for (const c of fleet.clusters) {
      this.clusters.intern(c.name);
      ratio.set(c.name, c.cpuOvercommitRatio ?? DEFAULT_CPU_OVERCOMMIT);
      strategy.set(c.name, options.strategy ?? c.strategy ?? 'binpack');
    }
    const defaultCluster = fleet.clusters[0]?.name ?? 'default';
    const partitionIds = new Map<string, number>();

    for (let h = 0; h < n; h++) {
      const host = hosts[h]!;
      if (this.hostIds.has(host.id)) throw new Error(`host id ${host.id} appears twice in the fleet`);
      this.hostIds.set(host.id, h);
      const clusterName = host.cluster ?? defaultCluster;
      this.stateCode[h] = HOST_STATES.indexOf(host.state);
      this.region[h] = this.regions.intern(host.region);
      this.cluster[h] = this.clusters.intern(clusterName);
      const zone = host.labels.zone;
      this.zone[h] = zone === undefined ? -1 : this.zones.intern(zone);
      const allocatable = allocatableMemory(host.memory);
      this.allocatable[h] = allocatable;
      this.freeMemory[h] = allocatable;
      const cpu = host.cores * 1000 * (ratio.get(clusterName) ?? DEFAULT_CPU_OVERCOMMIT);
      this.cpuCapacity[h] = cpu;
      this.freeCpu[h] = cpu;
      const spread = (options.strategy ?? strategy.get(clusterName) ?? 'binpack') === 'spread';
      this.spreads[h] = spread ? 1 : 0;
      if (host.ports && host.ports.length > 0) this.usedPorts[h] = new Set(host.ports);
      const pkey = `${this.cluster[h]!}/${this.region[h]!}/${this.zone[h]!}`;
      let partition = partitionIds.get(pkey);
      if (partition === undefined) {
        partitionIds.set(pkey, (partition = this.partitions.length));
        this.partitions.push({ cluster: this.cluster[h]!, region: this.region[h]!, zone: this.zone[h]!, spread });
      }
      this.partitionOf[h] = partition;
    }
    this.zoneSlots = this.zones.size + 1;

    for (const volume of fleet.volumes ?? []) {
      const h = this.hostIds.get(volume.host);
      if (h !== undefined) this.volumes.set(volume.name, h);
    }
    for (const instance of fleet.instances) {
      // an instance on a host the fleet no longer lists takes nothing from the hosts we place on
      const h = this.hostIds.get(instance.host);
      if (h === undefined) continue;
      this.record(h, {
        service: this.services.intern(instance.service),
        memory: instance.resources.memory,
        cpu: instance.resources.cpu,
        ports: instance.ports ?? [],
      });
      if (instance.volume !== undefined) this.volumes.set(instance.volume, h);
    }

    // the seeded shuffle is the "random-but-seeded host order" of DESIGN §4: it breaks ties
    // between equally good hosts without favouring the first hosts of the fleet file
    const order = Array.from({ length: n }, (_, i) => i);
    seededRandom(options.seed ?? 0).shuffle(order);
    this.order = Int32Array.from(order);
    this.index = new FreeIndex(n, 2 * this.partitions.length);
    for (const h of order) {
      if (this.stateCode[h] !== SCHEDULABLE) continue;
      const partition = this.partitionOf[h]! + (this.empty[h] === 1 ? this.partitions.length : 0);
      this.index.insert(h, partition, this.freeMemory[h]!);
    }
  }

  hostOf(index: number): Host {
    return this.fleet.hosts[index]!;
  }

  replicasOn(service: number, host: number): number {
    return this.replicas.get(service, host);
  }

  replicasInZone(service: number, zone: number): number {
    return this.zoneReplicas[service * this.zoneSlots + zone + 1] ?? 0;
  }

  replicasOf(service: number): number {
    return this.serviceTotals[service] ?? 0;
  }

  /** Records a placement: host figures, counters, ports, and the host's place in the index. */
  commit(host: number, instance: Commitment, newVolume?: string): void {
    const wasEmpty = this.empty[host] === 1;
    this.epoch++;
    this.record(host, instance);
    if (newVolume !== undefined) this.volumes.set(newVolume, host);
    if (wasEmpty && this.index.has(host)) {
      this.index.remove(host);
      this.index.insert(host, this.partitionOf[host]!, this.freeMemory[host]!);
    } else {
      this.index.update(host, this.freeMemory[host]!);
    }
  }

  /** Doubles the per-service counters until `service` fits: amortised O(1) per new service. */
  private grow(service: number): void {
    let capacity = Math.max(1024, this.serviceTotals.length);
    while (capacity <= service) capacity *= 2;
    const totals = new Int32Array(capacity);
    totals.set(this.serviceTotals);
    this.serviceTotals = totals;
    const zones = new Int32Array(capacity * this.zoneSlots);
    zones.set(this.zoneReplicas);
    this.zoneReplicas = zones;
  }

  private record(host: number, instance: Commitment): void {
    this.empty[host] = 0;
    this.freeMemory[host] = this.freeMemory[host]! - instance.memory;
    this.freeCpu[host] = this.freeCpu[host]! - instance.cpu;
    this.replicas.increment(instance.service, host);
    if (instance.service >= this.serviceTotals.length) this.grow(instance.service);
    this.zoneReplicas[instance.service * this.zoneSlots + this.zone[host]! + 1]! += 1;
    this.serviceTotals[instance.service]! += 1;
    if (instance.ports.length > 0) {
      let used = this.usedPorts[host];
      if (used === undefined) this.usedPorts[host] = used = new Set();
      for (const port of instance.ports) used.add(port);
    }
  }
}
