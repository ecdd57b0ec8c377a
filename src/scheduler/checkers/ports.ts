// Fixed host ports: an `infra` service binds a port on the host itself, so a host whose port
// is taken (by another instance or by the host's own services) cannot run it.
import { hosts, type Checker } from './checker.js';

export const ports = {
  name: 'ports',
  applies: (ask) => ask.ports.length > 0,
  feasible: (host, ask, state) => {
    const used = state.usedPorts[host];
    if (used === undefined) return true;
    for (const port of ask.ports) if (used.has(port)) return false;
    return true;
  },
  reason: (ask, filtered, _state) => ({
    checker: 'ports',
    hosts: filtered.length,
    ports: [...ask.ports],
    message: `${hosts(filtered.length, ['already uses', 'already use'])} port ${ask.ports.join(', ')}`,
  }),
} satisfies Checker;
