// Schedulable hosts bucketed by free memory, one set of buckets per partition (the state
// makes one per cluster × region × zone, hosts in use and empty hosts apart). The pipeline's
// host source walks it from the tightest fitting bucket up (bin-pack) or from the emptiest
// bucket down (spread), so it meets the best candidates first and stops after a few: bounded
// work per placement and best-fit packing, where Nomad's random sample of log2(n) hosts would
// spread load over the whole fleet.
//
// Buckets are log-linear over MiB (exact below 256 MiB, then 128 buckets per power of two, so
// about 0.8% apart) and each holds an intrusive doubly-linked list in typed arrays: moving a
// host after a placement is O(1) and allocates nothing. A bitmap of non-empty buckets finds
// the next bucket with a few word operations.

const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;
/** Buckets for free memory up to 2^31 MiB (2 PiB); larger values share the last one. */
export const BUCKETS = 3200;
const WORDS = BUCKETS >>> 5;
const MIB = 1048576;

/** The bucket a free-memory figure (bytes) falls in; monotone, so bucket order is (nearly) free-memory order. */
export function bucketOf(bytes: number): number {
  const mib = bytes <= 0 ? 0 : Math.min(Math.floor(bytes / MIB), 0x7fffffff);
  if (mib < 2 * SUB) return mib;
  const e = 31 - Math.clz32(mib) - SUB_BITS;
  return e * SUB + (mib >>> e);
}

/** The smallest free-memory figure (bytes) that lands in `bucket`. */
export function bucketFloor(bucket: number): number {
  if (bucket < 2 * SUB) return bucket * MIB;
  const e = Math.floor(bucket / SUB) - 1;
  return ((bucket - e * SUB) << e) * MIB;
}

const trailingZeros = (word: number): number => 31 - Math.clz32(word & -word);

export class FreeIndex {
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** The bucket a host sits in, or -1 when it is not indexed (not schedulable). */
  private readonly bucketOfHost: Int32Array;
  private readonly partitionOfHost: Int32Array;
  private readonly heads: Int32Array;
  private readonly nonEmpty: Uint32Array;

  constructor(hostCount: number, readonly partitionCount: number) {
    this.next = new Int32Array(hostCount).fill(-1);
    this.prev = new Int32Array(hostCount).fill(-1);
    this.bucketOfHost = new Int32Array(hostCount).fill(-1);
    this.partitionOfHost = new Int32Array(hostCount).fill(-1);
    this.heads = new Int32Array(partitionCount * BUCKETS).fill(-1);
    this.nonEmpty = new Uint32Array(partitionCount * WORDS);
  }

  has(host: number): boolean {
    return this.bucketOfHost[host]! >= 0;
  }

  /**
   * Adds a host at the head of its bucket: the most recently touched host is met first, which
   * keeps bin-pack filling the host it has open. (Spread was measured with tail insertion too:
   * a few percent fewer visits, a wider zone skew; not worth a second list end.)
   */
  insert(host: number, partition: number, free: number): void {
    const bucket = bucketOf(free);
    const slot = partition * BUCKETS + bucket;
    const head = this.heads[slot]!;
    this.next[host] = head;
    this.prev[host] = -1;
    if (head >= 0) this.prev[head] = host;
    this.heads[slot] = host;
    this.bucketOfHost[host] = bucket;
    this.partitionOfHost[host] = partition;
    this.nonEmpty[partition * WORDS + (bucket >>> 5)]! |= 1 << (bucket & 31);
  }

  remove(host: number): void {
    const bucket = this.bucketOfHost[host]!;
    if (bucket < 0) return;
    const partition = this.partitionOfHost[host]!;
    const slot = partition * BUCKETS + bucket;
    const next = this.next[host]!;
    const prev = this.prev[host]!;
    if (prev >= 0) this.next[prev] = next;
    else this.heads[slot] = next;
    if (next >= 0) this.prev[next] = prev;
    this.bucketOfHost[host] = -1;
    if (this.heads[slot]! < 0) this.nonEmpty[partition * WORDS + (bucket >>> 5)]! &= ~(1 << (bucket & 31));
  }

  /** Re-files a host after its free memory changed; a no-op while it stays in its bucket. */
  update(host: number, free: number): void {
    const bucket = this.bucketOfHost[host]!;
    if (bucket < 0 || bucketOf(free) === bucket) return;
    const partition = this.partitionOfHost[host]!;
    this.remove(host);
    this.insert(host, partition, free);
  }

  /** The first host of a bucket, or -1. */
  head(partition: number, bucket: number): number {
    return this.heads[partition * BUCKETS + bucket]!;
  }

  /** The host after `host` in its bucket, or -1. */
  after(host: number): number {
    return this.next[host]!;
  }

  /** The first non-empty bucket at or above `bucket`, or -1. */
  firstFrom(partition: number, bucket: number): number {
    if (bucket >= BUCKETS) return -1;
    const base = partition * WORDS;
    let w = bucket >>> 5;
    let word = this.nonEmpty[base + w]! & (0xffffffff << (bucket & 31));
    for (;;) {
      if (word !== 0) return (w << 5) + trailingZeros(word);
      if (++w >= WORDS) return -1;
      word = this.nonEmpty[base + w]!;
    }
  }

  /** The last non-empty bucket at or below `bucket`, or -1. */
  lastUpTo(partition: number, bucket: number): number {
    if (bucket < 0) return -1;
    const base = partition * WORDS;
    let w = Math.min(bucket, BUCKETS - 1) >>> 5;
    let word = bucket >= BUCKETS ? this.nonEmpty[base + w]! : this.nonEmpty[base + w]! & (0xffffffff >>> (31 - (bucket & 31)));
    for (;;) {
      if (word !== 0) return (w << 5) + 31 - Math.clz32(word);
      if (--w < 0) return -1;
      word = this.nonEmpty[base + w]!;
    }
  }
}
