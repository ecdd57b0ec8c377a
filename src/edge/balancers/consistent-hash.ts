// Affinity: the same key (cookie, client IP or header value) reaches the same instance, by
// consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam 2018, as in HAProxy's
// `hash-balance-factor`). A key walks the ring clockwise from its hash to the first instance
// whose load is under `ceil(factor × (total + 1) / n)`, so one hot key cannot pile onto one
// instance, and an instance joining or leaving moves about 1/n of the keys.
import type { Balancer, CandidateView } from './balancer.js';

/** Points per instance on the ring: enough that each instance's share stays within a few % of 1/n. */
const POINTS_PER_INSTANCE = 160;
export const DEFAULT_LOAD_FACTOR = 1.25;

/** FNV-1a, then murmur3's finalizer: FNV alone clusters similar keys ("web-1#1", "web-1#2"). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

interface Ring {
  readonly points: Uint32Array;
  /** index into the items the ring was built for, per point */
  readonly owners: Uint32Array;
}

export class ConsistentHash implements Balancer {
  private builtFor: readonly unknown[] | undefined;
  private ring: Ring = { points: new Uint32Array(0), owners: new Uint32Array(0) };

  /** @param factor how far above the mean load an instance may go before keys spill over */
  constructor(private readonly factor = DEFAULT_LOAD_FACTOR) {}

  pick<T>(view: CandidateView<T>, key = ''): T | undefined {
    const items = view.items;
    if (items !== this.builtFor) this.build(view);
    const { points } = this.ring;
    let eligible = 0;
    let total = 0;
    let anyUnderSoft = false;
    for (const item of items) {
      if (!view.eligible(item)) continue;
      eligible++;
      total += view.load(item);
      anyUnderSoft ||= view.underSoft(item);
    }
    if (eligible === 0) return undefined;
    const bound = Math.ceil((this.factor * (total + 1)) / eligible);
    const start = lowerBound(points, hash32(key));
    // soft limits are a preference: walk past instances over theirs while any is under
    const found = (anyUnderSoft ? this.walk(view, start, bound, true) : undefined) ?? this.walk(view, start, bound, false);
    if (found !== undefined) return found;
    // unreachable while the bound is above the mean, but a pick must not fail for rounding
    for (const item of items) if (view.eligible(item)) return item;
    return undefined;
  }

  private walk<T>(view: CandidateView<T>, start: number, bound: number, soft: boolean): T | undefined {
    const { points, owners } = this.ring;
    for (let step = 0; step < points.length; step++) {
      const item = view.items[owners[(start + step) % points.length]!]!;
      if (view.eligible(item) && view.load(item) < bound && (!soft || view.underSoft(item))) return item;
    }
    return undefined;
  }

  private build<T>(view: CandidateView<T>): void {
    const pairs: [number, number][] = [];
    const items = view.items;
    items.forEach((item, index) => {
      const id = view.id(item);
      for (let p = 0; p < POINTS_PER_INSTANCE; p++) pairs.push([hash32(`${id}#${p}`), index]);
    });
    pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    this.ring = { points: Uint32Array.from(pairs, (p) => p[0]), owners: Uint32Array.from(pairs, (p) => p[1]) };
    this.builtFor = items;
  }
}

/** The first index whose point is >= value (wrapping to 0 past the end). */
function lowerBound(points: Uint32Array, value: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo === points.length ? 0 : lo;
}
