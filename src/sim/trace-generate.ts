// Synthetic load traces, one requests-per-second value per second, seeded. Each names a
// situation an autoscaler must handle: constant load, a daily cycle, a sudden 10× step, short
// spikes that vanish, noise around a flat mean (must not cause churn), and linear ramps.
import { seededRandom, type Random } from '../core/random.js';
import { normal } from './trace-draws.js';

export interface Trace {
  readonly name: string;
  readonly rps: Float64Array;
}

/** Rounds to whole non-negative requests, as an edge counts them. */
function requests(x: number): number {
  return Math.max(0, Math.round(x));
}

function build(seconds: number, random: Random, noise: number, mean: (t: number) => number): Float64Array {
  const rps = new Float64Array(seconds);
  for (let t = 0; t < seconds; t++) rps[t] = requests(mean(t) * (1 + noise * normal(random)));
  return rps;
}

/** 1000 rps, exactly, for an hour. */
export function steadyTrace(): Trace {
  return { name: 'steady', rps: new Float64Array(3600).fill(1000) };
}

/** Two days of a daily cycle between 100 and 2000 rps (trough at midnight), 5 % noise. */
export function diurnalTrace(seed: number): Trace {
  const day = 86_400;
  const low = 100;
  const high = 2000;
  const mean = (t: number): number => low + ((high - low) * (1 - Math.cos((2 * Math.PI * t) / day))) / 2;
  return { name: 'diurnal', rps: build(2 * day, seededRandom(seed), 0.05, mean) };
}

/** 200 rps for 15 min, ×10 at once for 30 min, back to 200 for 15 min; 3 % noise. */
export function stepTrace(seed: number): Trace {
  const mean = (t: number): number => (t >= 900 && t < 2700 ? 2000 : 200);
  return { name: 'step-10x', rps: build(3600, seededRandom(seed), 0.03, mean) };
}

/**
 * Three hours at 300 rps with a spike every 20 minutes: 4× to 10× the base, lasting 30 s to 3 min
 * (seeded), gone as fast as it came; 3 % noise.
 */
export function spikeTrace(seed: number): Trace {
  const random = seededRandom(seed);
  const base = 300;
  const spikes: { at: number; until: number; factor: number }[] = [];
  for (let at = 600; at < 3 * 3600 - 600; at += 1200) {
    spikes.push({ at, until: at + random.between(30, 180), factor: random.between(4, 10) });
  }
  const mean = (t: number): number => base * (spikes.find((s) => t >= s.at && t < s.until)?.factor ?? 1);
  return { name: 'spike-and-drop', rps: build(3 * 3600, random, 0.03, mean) };
}

/** Two hours of 1000 rps with 10 % per-second noise: nothing to do, so nothing should change. */
export function noisyFlatTrace(seed: number): Trace {
  return { name: 'noisy-flat', rps: build(2 * 3600, seededRandom(seed), 0.1, () => 1000) };
}

/** Six teeth: a linear ramp from 200 to 2000 rps over 10 min, then straight back to 200; 3 % noise. */
export function sawtoothTrace(seed: number): Trace {
  const period = 600;
  const mean = (t: number): number => 200 + (1800 * (t % period)) / period;
  return { name: 'sawtooth', rps: build(6 * period, seededRandom(seed), 0.03, mean) };
}

export function generatedTraces(seed: number): Trace[] {
  return [
    steadyTrace(),
    diurnalTrace(seed),
    stepTrace(seed + 1),
    spikeTrace(seed + 2),
    noisyFlatTrace(seed + 3),
    sawtoothTrace(seed + 4),
  ];
}
