// berth's edge as `npm run bench:edge` runs it: one process, one route in the given mode to the
// bench backend, the table in memory (no control plane in the measurement).
// Usage: node bench-edge-server.js <listen port> <backend port> <per-request|per-connection>
import { startEdge } from '../../src/edge/edge.js';
import { MemoryRouteSource } from '../../src/edge/memory-route-source.js';
import type { RoutingMode } from '../../src/edge/route-table.js';

const [listen, backend, mode] = process.argv.slice(2);
const source = new MemoryRouteSource({
  version: 1,
  routes: [{ host: 'bench.test', service: 'bench', mode: mode as RoutingMode, instances: [{ id: 'bench-1', address: '127.0.0.1', port: Number(backend), ready: true }] }],
});
await startEdge({ listen: { host: '127.0.0.1', port: Number(listen) }, source, edgeId: 'bench', seed: 'bench', log: () => {} });
process.stdout.write('ready\n');
// exit normally, so `node --cpu-prof` can write its profile
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(0));
