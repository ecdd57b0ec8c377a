// `npm run bench:autoscale [-- --trace FILE --scale K --scale-mode traffic|multiply --seed N --only a,b]`
// Replays the generated traces and a real one against berth's autoscaler and the Kubernetes HPA
// baseline and prints one JSON object (src/sim/autoscale-bench.ts says what is in it).
//   (default)     the NASA Kennedy 1995 trace in ../shared/traces, scaled as traffic ×100; the
//                 same trace multiplied second by second is reported under `diagnostics`
//   --trace FILE  any file of whitespace-separated requests-per-second values, plain or gzipped,
//                 instead (as given: --scale 1, --scale-mode multiply unless told)
//   --seed N      traces, start delays and traffic scaling (default 7)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { autoscaleBench } from '../src/sim/autoscale-bench.js';

const NASA = fileURLToPath(new URL('../../../../shared/traces/nasa-kennedy-1995-rps.txt.gz', import.meta.url));

function fail(message: string): never {
  process.stderr.write(`bench:autoscale: ${message}\n`);
  process.exit(2);
}

function args() {
  try {
    return parseArgs({
      options: {
        trace: { type: 'string' },
        scale: { type: 'string' },
        'scale-mode': { type: 'string' },
        seed: { type: 'string', default: '7' },
        only: { type: 'string' },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message);
  }
}
const values = args();

const own = values.trace !== undefined;
const seed = Number(values.seed);
if (!Number.isInteger(seed)) fail(`--seed ${values.seed}: write a whole number, e.g. --seed 7`);
const scale = values.scale === undefined ? (own ? 1 : 100) : Number(values.scale);
if (!Number.isFinite(scale) || scale <= 0) fail(`--scale ${values.scale}: write a positive multiplier, e.g. --scale 100`);
const scaleMode = values['scale-mode'] ?? (own ? 'multiply' : 'traffic');
if (scaleMode !== 'traffic' && scaleMode !== 'multiply') fail(`--scale-mode ${scaleMode}: write traffic or multiply`);
const file = values.trace ?? (existsSync(NASA) ? NASA : undefined);
if (own && !existsSync(values.trace!)) fail(`--trace ${values.trace}: no such file`);
if (file === undefined) process.stderr.write(`bench:autoscale: ${NASA} not found; running the generated traces only\n`);

const report = autoscaleBench({
  ...(file === undefined ? {} : { file }),
  ...(own ? {} : { name: 'nasa-kennedy-1995' }),
  scale,
  scaleMode,
  multiplyDiagnostic: !own,
  seed,
  ...(values.only === undefined ? {} : { only: values.only.split(',') }),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
