// CPU is oversubscribed but bounded: placed CPU stays within cores × the cluster's
// cpu_overcommit_ratio, which shapes density without making memory the only limit.
import { formatCpu } from '../../core/quantity.js';
import { hosts, type Checker } from './checker.js';

export const cpu = {
  name: 'cpu',
  applies: (ask) => ask.cpu > 0,
  feasible: (host, ask, state) => state.freeCpu[host]! >= ask.cpu,
  reason: (ask, filtered, state) => {
    let largestFree = 0;
    for (const h of filtered) largestFree = Math.max(largestFree, state.freeCpu[h]!);
    return {
      checker: 'cpu',
      resource: 'cpu',
      hosts: filtered.length,
      requested: ask.cpu,
      largestFree,
      message: `${hosts(filtered.length, ['has', 'have'])} less than ${formatCpu(ask.cpu)} CPU left under the overcommit ratio (largest free: ${formatCpu(Math.max(0, Math.floor(largestFree)))})`,
    };
  },
} satisfies Checker;
