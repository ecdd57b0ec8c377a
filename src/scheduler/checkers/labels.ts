// Label constraints: every label the request names must match the host's exactly. The
// compiled request carries which hosts match, so the check in the walk is one byte.
import { hosts, type Checker } from './checker.js';

export const labels = {
  name: 'labels',
  applies: (ask) => ask.labels.length > 0,
  feasible: (host, ask, _state) => ask.labelMatch![host] === 1,
  reason: (ask, filtered, _state) => {
    const wanted = Object.fromEntries(ask.labels);
    const text = ask.labels.map(([k, v]) => `${k}=${v}`).join(', ');
    return { checker: 'labels', hosts: filtered.length, labels: wanted, message: `${hosts(filtered.length, ['lacks', 'lack'])} labels ${text}` };
  },
} satisfies Checker;
