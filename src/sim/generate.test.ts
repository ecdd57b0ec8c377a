import { describe, expect, it } from 'vitest';
import { parseSize } from '../core/quantity.js';
import { fleetFileSchema } from './fleet-file.js';
import { generate } from './generate.js';
import { workloadFileSchema } from './workload-file.js';

const bytes = (v: string | number): number => {
  const r = parseSize(v);
  if (!r.ok) throw new Error(r.error);
  return r.value;
};

describe('generate', () => {
  it('is deterministic per seed and writes files that parse', () => {
    const a = generate({ hosts: 60, instances: 2000, seed: 11 });
    expect(generate({ hosts: 60, instances: 2000, seed: 11 })).toEqual(a);
    expect(generate({ hosts: 60, instances: 2000, seed: 12 })).not.toEqual(a);
    expect(fleetFileSchema.safeParse(JSON.parse(JSON.stringify(a.fleet))).success).toBe(true);
    expect(workloadFileSchema.safeParse(JSON.parse(JSON.stringify(a.workload))).success).toBe(true);
  });

  it('builds a heterogeneous fleet and a skewed workload at about 70% of free memory', () => {
    const { fleet, workload } = generate({ hosts: 400, instances: 20_000, seed: 3 });
    expect(new Set(fleet.hosts.map((h) => h.memory))).toEqual(new Set(['16Gi', '64Gi', '256Gi']));
    expect(new Set(fleet.hosts.map((h) => h.labels?.zone)).size).toBe(6);
    expect(fleet.hosts.some((h) => h.state === 'cordoned')).toBe(true);
    expect(workload.services.reduce((s, x) => s + x.replicas, 0)).toBe(20_000);
    const replicas = workload.services.map((s) => s.replicas).sort((x, y) => y - x);
    expect(replicas[0]!).toBeGreaterThan(10 * replicas[Math.floor(replicas.length / 2)]!);
    expect(workload.services.some((s) => s.volume !== undefined)).toBe(true);
    expect(workload.services.some((s) => s.ports !== undefined)).toBe(true);
    expect((fleet.volumes ?? []).length).toBeGreaterThan(0);
    const capacity = fleet.hosts
      .filter((h) => h.state === 'schedulable')
      .reduce((s, h) => s + bytes(h.memory) - bytes(h.reserved ?? 0) - bytes(h.safety_buffer ?? 0), 0);
    const asked = workload.services.reduce((s, x) => s + x.replicas * bytes(x.memory), 0);
    expect(asked / capacity).toBeGreaterThan(0.67);
    expect(asked / capacity).toBeLessThan(0.73);
  });

  it('builds the adversarial profiles', () => {
    const huge = generate({ hosts: 30, instances: 300, seed: 1, profile: 'one-huge-host' });
    expect(huge.fleet.hosts[0]!.memory).toBe('4Ti');
    expect(huge.fleet.hosts.slice(1).every((h) => h.memory === '4Gi')).toBe(true);
    const one = generate({ hosts: 30, instances: 300, seed: 1, profile: 'one-schedulable' });
    expect(one.fleet.hosts.filter((h) => h.state === 'schedulable')).toHaveLength(1);
    const full = generate({ hosts: 30, instances: 300, seed: 1, profile: 'almost-full' });
    expect((full.fleet.instances ?? []).length).toBeGreaterThan(30);
  });
});
