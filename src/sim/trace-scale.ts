// Scaling a trace of request counts so its demand spans several instances, two ways:
//
// - multiply: every second's count × K. Faithful to the numbers, not to traffic: a trace that
//   averages 0.7 requests per second is mostly counting noise (0, 1, 3 …), and × K turns a second
//   with 3 requests instead of 0.7 into a 4× surge lasting one second, which no real service
//   K times as busy would see (its noise shrinks as 1/√K).
// - traffic: K times as many visitors with the same habits. Each second's count is drawn from
//   Poisson(K × the trace's mean rate over `window` seconds centred on that second): the trace's
//   real minute-scale shape (daily and weekly cycles, bursts, outages) with the second-scale
//   noise a K-times busier service has. The window is the shortest over which a rate of ~1/s is
//   known to ±15 %: 60 s.
import { seededRandom } from '../core/random.js';
import { poisson } from './trace-draws.js';

export function multiplyTrace(counts: ArrayLike<number>, factor: number): Float64Array {
  const out = new Float64Array(counts.length);
  for (let t = 0; t < counts.length; t++) out[t] = counts[t]! * factor;
  return out;
}

export function scaleTraffic(counts: ArrayLike<number>, factor: number, options: { window?: number; seed: number }): Float64Array {
  const window = options.window ?? 60;
  const n = counts.length;
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = prefix[t]! + counts[t]!;
  const random = seededRandom(options.seed);
  const out = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const from = Math.max(0, t - Math.floor(window / 2));
    const to = Math.min(n, from + window);
    out[t] = poisson(random, (factor * (prefix[to]! - prefix[from]!)) / (to - from));
  }
  return out;
}
