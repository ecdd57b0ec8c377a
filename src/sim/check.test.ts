import { describe, expect, it } from 'vitest';
import { checkPlan, type ViolationKind } from './check.js';
import type { FleetFile } from './fleet-file.js';
import type { PlanFile } from './plan-file.js';
import type { WorkloadFile } from './workload-file.js';

const fleet: FleetFile = {
  clusters: [{ name: 'default', cpu_overcommit_ratio: 2 }],
  hosts: [
    { id: 'a', region: 'eu', labels: { zone: 'eu-a', disk: 'ssd' }, memory: '16Gi', reserved: '1Gi', safety_buffer: '1Gi', cores: 2, ports: [22] },
    { id: 'b', region: 'eu', labels: { zone: 'eu-b', disk: 'hdd' }, memory: '16Gi', reserved: '1Gi', safety_buffer: '1Gi', cores: 2 },
    { id: 'c', region: 'us', labels: { zone: 'us-a' }, memory: '16Gi', cores: 2 },
    { id: 'x', region: 'eu', labels: { zone: 'eu-a' }, memory: '16Gi', cores: 2, state: 'cordoned' },
  ],
  volumes: [{ name: 'db-data-0', host: 'b' }],
};

const workload: WorkloadFile = {
  services: [
    { name: 'web', replicas: 2, memory: '4Gi', cpu: '1', region: 'eu' },
    { name: 'db', replicas: 1, memory: '2Gi', cpu: '500m', volume: 'data' },
    { name: 'agent', replicas: 1, memory: '64Mi', cpu: '10m', ports: [9100] },
    { name: 'cache', replicas: 1, memory: '1Gi', cpu: '100m', labels: { disk: 'ssd' } },
  ],
};

const good: PlanFile = {
  placements: [
    { service: 'db', replica: 0, host: 'b' },
    { service: 'web', replica: 0, host: 'a' },
    { service: 'web', replica: 1, host: 'b' },
    { service: 'agent', replica: 0, host: 'c' },
    { service: 'cache', replica: 0, host: 'a' },
  ],
  unplaceable: [],
};

const kinds = (plan: PlanFile, w: WorkloadFile = workload, f: FleetFile = fleet): ViolationKind[] =>
  checkPlan(f, w, plan).violations.map((v) => v.kind);

const edit = (change: (p: PlanFile) => void): PlanFile => {
  const copy = structuredClone(good);
  change(copy);
  return copy;
};

describe('checkPlan', () => {
  it('accepts a valid plan', () => {
    expect(checkPlan(fleet, workload, good)).toEqual({ placements: 5, unplaceable: 0, violations: [], violationCount: 0 });
  });

  it('finds each kind of violation', () => {
    expect(kinds(edit((p) => (p.placements[4]!.host = 'x')))).toEqual(['host-state', 'constraint']);
    expect(kinds(edit((p) => (p.placements[1]!.host = 'c')))).toEqual(['constraint']);
    expect(kinds(edit((p) => (p.placements[0]!.host = 'a')))).toEqual(['volume']);
    expect(kinds(edit((p) => (p.placements[3]!.host = 'nowhere')))).toEqual(['unknown-host']);
    expect(kinds(edit((p) => p.placements.push({ service: 'web', replica: 1, host: 'a' })))).toContain('duplicate');
    expect(kinds(edit((p) => p.placements.pop()))).toEqual(['missing']);
    expect(kinds(edit((p) => p.placements.push({ service: 'ghost', replica: 0, host: 'a' })))).toEqual(['unknown-service']);
    expect(kinds(edit((p) => p.placements.push({ service: 'web', replica: 7, host: 'a' })))).toEqual(['unknown-replica']);
  });

  it('says which constraint a misplaced instance breaks', () => {
    const messages = (plan: PlanFile): string[] => checkPlan(fleet, workload, plan).violations.map((v) => v.message);
    expect(messages(edit((p) => (p.placements[1]!.host = 'c')))).toEqual(['web/0 is placed on c, which is in region us (needs eu)']);
    expect(messages(edit((p) => (p.placements[4]!.host = 'b')))).toEqual(['cache/0 is placed on b, which has label disk=hdd (needs disk=ssd)']);
    expect(messages(edit((p) => (p.placements[4]!.host = 'c')))).toEqual(['cache/0 is placed on c, which lacks label disk=ssd']);
  });

  it('checks memory against physical − reserved − safety buffer, and CPU against cores × ratio', () => {
    const heavy: WorkloadFile = { services: [{ name: 'm', replicas: 4, memory: '3584Mi', cpu: '100m' }] };
    const on = (host: string, n: number): PlanFile => ({ placements: Array.from({ length: n }, (_, r) => ({ service: 'm', replica: r, host })), unplaceable: [] });
    const onlyA: FleetFile = { ...fleet, hosts: fleet.hosts.slice(0, 1) };
    expect(kinds(on('a', 4), heavy, onlyA)).toEqual([]); // 4 × 3.5Gi = 14Gi = allocatable
    const over: WorkloadFile = { services: [{ name: 'm', replicas: 4, memory: '3585Mi', cpu: '100m' }] };
    expect(kinds(on('a', 4), over, onlyA)).toEqual(['memory']);
    const cpu: WorkloadFile = { services: [{ name: 'm', replicas: 5, memory: '1Mi', cpu: '1' }] };
    expect(kinds(on('a', 5), cpu, onlyA)).toEqual(['cpu']); // 2 cores × 2
    const odd: WorkloadFile = { services: [{ name: 'm', replicas: 3, memory: '1Mi', cpu: '1500m' }] };
    expect(checkPlan(onlyA, odd, on('a', 3)).violations.map((v) => v.message)).toEqual(['a: 4500m CPU placed, over cores × cpu_overcommit_ratio = 4000m']);
    expect(checkPlan(onlyA, cpu, on('a', 5)).violations.map((v) => v.message)).toEqual(['a: 5 CPU placed, over cores × cpu_overcommit_ratio = 4']);
  });

  it('checks host ports against the host and other instances', () => {
    const w: WorkloadFile = { services: [{ name: 'p', replicas: 2, memory: '1Mi', cpu: '1m', ports: [22] }] };
    expect(kinds({ placements: [{ service: 'p', replica: 0, host: 'a' }, { service: 'p', replica: 1, host: 'b' }], unplaceable: [] }, w)).toEqual(['ports']);
    const w2: WorkloadFile = { services: [{ name: 'p', replicas: 2, memory: '1Mi', cpu: '1m', ports: [80] }] };
    expect(kinds({ placements: [{ service: 'p', replica: 0, host: 'b' }, { service: 'p', replica: 1, host: 'b' }], unplaceable: [] }, w2)).toContain('ports');
  });

  it('checks replica spread: no second replica on a host while another feasible host has none', () => {
    const w: WorkloadFile = { services: [{ name: 's', replicas: 2, memory: '1Gi', cpu: '1m', region: 'eu' }] };
    const stacked: PlanFile = { placements: [{ service: 's', replica: 0, host: 'a' }, { service: 's', replica: 1, host: 'a' }], unplaceable: [] };
    expect(kinds(stacked, w)).toEqual(['spread']);
    // with b full, stacking on a is right
    const full: FleetFile = { ...fleet, instances: [{ id: 'i', service: 'o', host: 'b', memory: '14Gi', cpu: '1m' }] };
    expect(kinds(stacked, w, full)).toEqual([]);
  });

  it('wants a reason for every unplaceable instance, and no unplaceable instance a host could take', () => {
    const w: WorkloadFile = { services: [{ name: 'u', replicas: 1, memory: '20Gi', cpu: '1m' }] };
    expect(kinds({ placements: [], unplaceable: [{ service: 'u', replica: 0, reasons: [{ checker: 'memory', message: 'too big' }] }] }, w)).toEqual([]);
    expect(kinds({ placements: [], unplaceable: [{ service: 'u', replica: 0, reasons: [] }] }, w)).toEqual(['no-reason']);
    const small: WorkloadFile = { services: [{ name: 'u', replicas: 1, memory: '1Gi', cpu: '1m' }] };
    expect(kinds({ placements: [], unplaceable: [{ service: 'u', replica: 0, reasons: [{ checker: 'memory', message: 'x' }] }] }, small)).toEqual(['missed-fit']);
  });
});
