// `npm run bench:scheduler`: places a generated workload (about 70% of the fleet's memory) on
// 1,000 hosts / 100,000 instances and 10,000 hosts / 1,000,000 instances, bin-pack and spread,
// verifies each plan with the independent checker, and prints one JSON object.
// Each run is a child process, so peak_rss_mb is that run's own peak.
//   --quick      only the 1,000-host runs
//   --seed N     generator and scheduler seed (default 1)
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkPlan } from '../src/sim/check.js';
import { fleetFromFile } from '../src/sim/fleet-file.js';
import { generate } from '../src/sim/generate.js';
import { planFigures } from '../src/sim/figures.js';
import { planFromResult } from '../src/sim/place-workload.js';
import { requestsFromWorkload } from '../src/sim/workload-file.js';
import { placeAll } from '../src/scheduler/place-all.js';
import type { Strategy } from '../src/scheduler/fleet.js';

interface RunSpec {
  readonly hosts: number;
  readonly instances: number;
  readonly strategy: Strategy;
  readonly seed: number;
}

function run(spec: RunSpec): Record<string, unknown> {
  const { fleet: fleetFile, workload } = generate({ hosts: spec.hosts, instances: spec.instances, seed: spec.seed });
  const fleet = fleetFromFile(fleetFile);
  const requests = requestsFromWorkload(workload);
  const started = process.hrtime.bigint();
  const result = placeAll(fleet, requests, { strategy: spec.strategy, seed: spec.seed });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const plan = planFromResult(result, { strategy: spec.strategy, seed: spec.seed });
  const check = checkPlan(fleetFile, workload, plan);
  const figures = planFigures(fleetFile, workload, plan);
  return {
    strategy: spec.strategy,
    hosts: spec.hosts,
    instances: requests.length,
    seconds: Math.round(seconds * 1000) / 1000,
    placements_per_s: Math.round(requests.length / seconds),
    unplaceable: result.unplaceable.length,
    violations: check.violationCount,
    hosts_used: figures.hosts_used,
    packing_ratio: figures.packing_ratio,
    ...(spec.strategy === 'spread' ? { zone_skew: figures.zone_skew, service_zone_skew: figures.service_zone_skew } : {}),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    ...(check.violations.length > 0 ? { first_violations: check.violations.slice(0, 5).map((v) => v.message) } : {}),
  };
}

const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

const one = flag('--run');
if (one !== undefined) {
  process.stdout.write(`${JSON.stringify(run(JSON.parse(one) as RunSpec))}\n`);
} else {
  const seed = Number(flag('--seed') ?? 1);
  const sizes = args.includes('--quick') ? [[1000, 100_000]] : [[1000, 100_000], [10_000, 1_000_000]];
  const runs: Record<string, unknown>[] = [];
  for (const strategy of ['binpack', 'spread'] as const) {
    for (const [hosts, instances] of sizes) {
      const spec: RunSpec = { hosts: hosts!, instances: instances!, strategy, seed };
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--run', JSON.stringify(spec)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      });
      runs.push(JSON.parse(out) as Record<string, unknown>);
    }
  }
  const goals = { placements_per_s: 100_000, violations: 0, packing_ratio: 1.05, peak_rss_mb: 1536 };
  process.stdout.write(`${JSON.stringify({ bench: 'scheduler', node: process.version, seed, goals, runs }, null, 2)}\n`);
}
