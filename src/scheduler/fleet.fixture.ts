// Hosts and fleets for the scheduler's tests: each test states only what differs from a plain
// schedulable host.
import type { Fleet, Host, PlacedInstance } from './fleet.js';

export const GI = 2 ** 30;

/** A schedulable host in eu, zone eu-a, named after its id: 16 GiB with nothing reserved, 8 cores. */
export const host = (id: string, extra: Partial<Host> = {}): Host => ({
  id,
  name: id,
  region: 'eu',
  labels: { zone: 'eu-a' },
  state: 'schedulable',
  memory: { physical: 16 * GI, reserved: 0, safetyBuffer: 0 },
  cores: 8,
  ...extra,
});

/** A fleet of one cluster, `default`. */
export const fleet = (hosts: readonly Host[], instances: readonly PlacedInstance[] = [], extra: Partial<Fleet> = {}): Fleet => ({
  clusters: [{ name: 'default' }],
  hosts,
  instances,
  ...extra,
});
