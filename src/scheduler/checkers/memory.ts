// Memory is a hard limit: placed memory never exceeds allocatable (physical − reserved −
// safety buffer), counting what runs on the host and what this batch placed there already.
import { humanSize } from '../../core/quantity.js';
import { hosts, type Checker } from './checker.js';

export const memory = {
  name: 'memory',
  applies: (_ask) => true,
  feasible: (host, ask, state) => state.freeMemory[host]! >= ask.memory,
  reason: (ask, filtered, state) => {
    let largestFree = 0;
    for (const h of filtered) largestFree = Math.max(largestFree, state.freeMemory[h]!);
    return {
      checker: 'memory',
      resource: 'memory',
      hosts: filtered.length,
      requested: ask.memory,
      largestFree,
      message: `${hosts(filtered.length, ['has', 'have'])} less than ${humanSize(ask.memory)} memory free (largest free: ${humanSize(largestFree)})`,
    };
  },
} satisfies Checker;
