// Only hosts in the `schedulable` state take new instances: cordoned, draining, lost and
// decommissioned hosts are filtered with their state named.
import { HOST_STATES, type HostState } from '../fleet.js';
import { SCHEDULABLE } from '../state.js';
import { hosts, type Checker } from './checker.js';

export const schedulable = {
  name: 'schedulable',
  applies: (_ask) => true,
  feasible: (host, _ask, state) => state.stateCode[host] === SCHEDULABLE,
  reason: (_ask, filtered, state) => {
    const states: Partial<Record<HostState, number>> = {};
    for (const h of filtered) {
      const s = HOST_STATES[state.stateCode[h]!]!;
      states[s] = (states[s] ?? 0) + 1;
    }
    const parts = Object.entries(states).map(([s, n]) => `${n} ${s}`);
    return { checker: 'schedulable', hosts: filtered.length, states, message: `${hosts(filtered.length, ['is', 'are'])} not schedulable (${parts.join(', ')})` };
  },
} satisfies Checker;
