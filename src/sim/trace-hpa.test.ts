import { describe, expect, it } from 'vitest';
import { HorizontalPodAutoscaler, HPA_DEFAULTS, type HpaConfig } from './trace-hpa.js';

const config = (over: Partial<HpaConfig> = {}): HpaConfig => ({
  ...HPA_DEFAULTS,
  minReplicas: 1,
  maxReplicas: 100,
  targetAverageValue: 10,
  ...over,
});

/** Drives the HPA second by second; the count follows at once and `ready(replicas)` are ready. */
function drive(hpa: HorizontalPodAutoscaler, start: number, seconds: number, demand: (t: number) => number, replicas: number, ready = (r: number) => r) {
  const counts: number[] = [];
  for (let t = start; t < start + seconds; t++) {
    replicas = hpa.tick({ second: t, demand: demand(t), replicas, ready: ready(replicas) });
    counts.push(replicas);
  }
  return { replicas, counts };
}

describe('HPA baseline', () => {
  it('acts only at the 15 s sync, on the mean of the last 15 s per ready pod', () => {
    const hpa = new HorizontalPodAutoscaler(config());
    const { counts } = drive(hpa, 0, 15, (t) => (t < 10 ? 20 : 80), 2);
    expect(counts.slice(0, 14).every((c) => c === 2)).toBe(true);
    // mean (10×20 + 5×80)/15 = 40 over 2 pods = 20 per pod, target 10: ratio 2 → 4
    expect(counts[14]).toBe(4);
  });

  it('keeps the count within the 0.1 tolerance', () => {
    const hpa = new HorizontalPodAutoscaler(config());
    expect(drive(hpa, 0, 60, () => 109, 10).replicas).toBe(10);
    expect(drive(hpa, 60, 600, () => 91, 10).replicas).toBe(10);
  });

  it('scales up by at most max(100 %, 4 pods) per 15 s period', () => {
    const hpa = new HorizontalPodAutoscaler(config());
    const { counts } = drive(hpa, 0, 60, () => 1000, 2);
    expect([counts[14], counts[29], counts[44], counts[59]]).toEqual([6, 12, 24, 48]);
  });

  it('counts pending pods as using 0 when scaling up, and holds if that flips the direction', () => {
    const hpa = new HorizontalPodAutoscaler(config());
    // 10 pods, 5 ready at 15 rps each: ratio 1.5 over ready pods, 0.75 over all → no change.
    expect(drive(hpa, 0, 15, () => 75, 10, () => 5).replicas).toBe(10);
    // 30 rps each: 3.0 over ready, 1.5 over all 10 → ceil(1.5 × 10) = 15.
    const again = new HorizontalPodAutoscaler(config());
    expect(drive(again, 0, 15, () => 150, 10, () => 5).replicas).toBe(15);
  });

  it('scales down only to the highest recommendation of the last 300 s, then all at once', () => {
    const hpa = new HorizontalPodAutoscaler(config());
    let { replicas } = drive(hpa, 0, 120, () => 200, 20);
    expect(replicas).toBe(20);
    const down = drive(hpa, 120, 600, () => 20, replicas);
    // The last recommendation of 20 came at the sync of second 119; at 419 it is 300 s old, no
    // longer inside the window (time.After), and the count drops straight to 2 (100 % / 15 s).
    const firstDrop = down.counts.findIndex((c) => c < 20) + 120;
    expect(firstDrop).toBe(119 + 300);
    replicas = down.replicas;
    expect(replicas).toBe(2);
  });

  it('brings a count outside [min, max] back first', () => {
    const hpa = new HorizontalPodAutoscaler(config({ minReplicas: 2, maxReplicas: 5 }));
    expect(drive(hpa, 0, 15, () => 0, 9).replicas).toBe(5);
    expect(drive(new HorizontalPodAutoscaler(config({ minReplicas: 2 })), 0, 15, () => 50, 1).replicas).toBe(2);
  });

  it('does nothing without a ready pod (no metrics) and when scaled to zero', () => {
    expect(drive(new HorizontalPodAutoscaler(config()), 0, 15, () => 500, 3, () => 0).replicas).toBe(3);
    expect(drive(new HorizontalPodAutoscaler(config()), 0, 15, () => 500, 0).replicas).toBe(0);
  });
});
