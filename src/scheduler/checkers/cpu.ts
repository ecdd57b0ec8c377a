// CPU is oversubscribed but bounded: placed CPU stays within cores × the cluster's
// cpu_overcommit_ratio, which shapes density without making memory the only limit.
import { formatCpus } from '../../core/quantity.js';
import { hosts, type Checker } from './checker.js';

export const cpu = {
  name: 'cpu',
  applies: (ask) => ask.cpu > 0,
  feasible: (host, ask, state) => state.freeCpu[host]! >= ask.cpu,
  reason: (ask, filtered, state) => {
    let largestFree = 0;
    for (const h of filtered) largestFree = Math.max(largestFree, state.freeCpu[h]!);
    const [asked, free] = formatCpus(ask.cpu, Math.max(0, Math.floor(largestFree)));
    return {
      checker: 'cpu',
      resource: 'cpu',
      hosts: filtered.length,
      requested: ask.cpu,
      largestFree,
      message: `${hosts(filtered.length, ['has', 'have'])} less than ${asked} CPU left under the overcommit ratio (largest free: ${free})`,
    };
  },
} satisfies Checker;
