// Seeded randomness for the pure core (DESIGN §2: randomness takes a seed), so that a
// placement, a simulated fleet or a property-test failure can be replayed from its seed.

export interface Random {
  /** The seed this generator started from, as given. */
  readonly seed: number | string;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max], both included. */
  between(min: number, max: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** Shuffles in place (Fisher–Yates) and returns the same array. */
  shuffle<T>(items: T[]): T[];
  /** An independent generator derived from this one, for a sub-task that must not shift this sequence. */
  fork(label: string): Random;
}

/** FNV-1a over the text, so string seeds (`"ci-42"`) are as good as numbers. */
function hashSeed(seed: number | string): number {
  const text = String(seed);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counter): 128 bits of state, passes PractRand, and
 * is a handful of 32-bit integer operations per draw — fast enough for the scheduler's hot loop.
 */
export function seededRandom(seed: number | string): Random {
  let a = hashSeed(seed);
  let b = hashSeed(`${String(seed)}/b`);
  let c = hashSeed(`${String(seed)}/c`);
  let d = 1;
  const raw = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // the first draws of a fresh sfc32 are correlated with the seed; discard them
  for (let i = 0; i < 12; i++) raw();
  const random: Random = {
    seed,
    next: () => raw() / 4294967296,
    int: (n) => Math.floor((raw() / 4294967296) * n),
    between: (min, max) => min + Math.floor((raw() / 4294967296) * (max - min + 1)),
    chance: (p) => raw() / 4294967296 < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[Math.floor((raw() / 4294967296) * items.length)]!;
    },
    shuffle: (items) => {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor((raw() / 4294967296) * (i + 1));
        const t = items[i]!;
        items[i] = items[j]!;
        items[j] = t;
      }
      return items;
    },
    fork: (label) => seededRandom(`${String(seed)}/${label}/${raw()}`),
  };
  return random;
}
