// The two distributions the load traces need, drawn from berth's seeded generator.
import type { Random } from '../core/random.js';

/** A standard normal draw (Box–Muller). */
export function normal(random: Random): number {
  const u = 1 - random.next(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/** A Poisson draw: Knuth's product method for small means, the normal approximation above 30. */
export function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = random.next();
  while (p > limit) {
    k++;
    p *= random.next();
  }
  return k;
}
