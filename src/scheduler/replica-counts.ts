// How many replicas of each service each host holds: the replica-spread checker and the
// anti-affinity ranker ask for every host a walk visits, so this is an open-addressing hash
// table over typed arrays (no boxing, no per-entry objects) instead of a Map per host.
const EMPTY = -1;

export class ReplicaCounts {
  private services: Int32Array;
  private hosts: Int32Array;
  private counts: Int32Array;
  private mask: number;
  private size = 0;

  constructor(expected = 1024) {
    let capacity = 1024;
    while (capacity < expected * 2) capacity *= 2;
    this.services = new Int32Array(capacity).fill(EMPTY);
    this.hosts = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  private slot(service: number, host: number): number {
    let h = Math.imul(service, 0x9e3779b1) ^ Math.imul(host + 1, 0x85ebca6b);
    h ^= h >>> 15;
    let i = h & this.mask;
    for (;;) {
      const s = this.services[i]!;
      if (s === EMPTY || (s === service && this.hosts[i] === host)) return i;
      i = (i + 1) & this.mask;
    }
  }

  get(service: number, host: number): number {
    const i = this.slot(service, host);
    return this.services[i] === EMPTY ? 0 : this.counts[i]!;
  }

  increment(service: number, host: number): void {
    const i = this.slot(service, host);
    if (this.services[i] === EMPTY) {
      this.services[i] = service;
      this.hosts[i] = host;
      this.counts[i] = 1;
      // keep the table at most half full, so probe runs stay short
      if (++this.size * 2 > this.mask) this.rehash();
    } else {
      this.counts[i]! += 1;
    }
  }

  private rehash(): void {
    const { services, hosts, counts } = this;
    const capacity = services.length * 2;
    this.services = new Int32Array(capacity).fill(EMPTY);
    this.hosts = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < services.length; i++) {
      if (services[i] === EMPTY) continue;
      const j = this.slot(services[i]!, hosts[i]!);
      this.services[j] = services[i]!;
      this.hosts[j] = hosts[i]!;
      this.counts[j] = counts[i]!;
    }
  }
}
