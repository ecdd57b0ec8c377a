// The autoscale benchmark (`npm run bench:autoscale`, entry bench/autoscale.ts): every trace
// replayed against berth's autoscaler and the Kubernetes HPA baseline with the same instance
// model, as one JSON-ready object: per trace and autoscaler the instance-seconds,
// overload-seconds, time to adequate capacity after each step and replica changes, berth's
// ratios to the HPA and whether the goals hold.
import { autoscalePolicy, DEFAULT_TUNING } from '../autoscaler/policy.js';
import { runComparison, type Comparison, type ComparisonSetup } from './autoscale-compare.js';
import { generatedTraces, type Trace } from './trace-generate.js';
import { readTraceFile } from './trace-file.js';
import { HPA_DEFAULTS } from './trace-hpa.js';
import { multiplyTrace, scaleTraffic } from './trace-scale.js';
import { HORIZON, STEP_BEFORE, STEP_HOLD, STEP_RISE } from './trace-steps.js';

export type ScaleMode = 'traffic' | 'multiply';

export interface AutoscaleBenchOptions {
  /** A real trace of requests per second (whitespace-separated, plain or gzipped). */
  readonly file?: string;
  /** Its name in the report. */
  readonly name?: string;
  readonly scale: number;
  readonly scaleMode: ScaleMode;
  /** Also report the file multiplied second by second (when scaled as traffic). */
  readonly multiplyDiagnostic: boolean;
  readonly seed: number;
  /** Trace names (prefixes) to run; all when absent. */
  readonly only?: readonly string[];
}

interface Entry {
  readonly trace: Trace;
  readonly scaling?: { readonly source: string; readonly mode: ScaleMode; readonly factor: number };
}

const MULTIPLY_NOTE =
  'not a goal trace: ×K on each second multiplies the counting noise of a 0.7 req/s trace by K (a second with 3 requests ' +
  'becomes a 4× surge), which a service K times as busy does not see. Even a clairvoyant allocator that knows each ' +
  '20 s rate in advance needs about 106 % of the HPA instance-seconds to halve its overload here; see docs/autoscaler.md.';

export function autoscaleBench(options: AutoscaleBenchOptions): Record<string, unknown> {
  const started = performance.now();
  const { seed, scale } = options;
  const entries: Entry[] = generatedTraces(seed).map((trace) => ({ trace }));
  const diagnostics: Entry[] = [];
  if (options.file !== undefined) {
    const source = options.file;
    const counts = readTraceFile(source);
    const name = options.name ?? source.replace(/^.*\//, '');
    const scaled = (mode: ScaleMode): Float64Array =>
      mode === 'traffic' ? scaleTraffic(counts, scale, { seed }) : multiplyTrace(counts, scale);
    entries.push({ trace: { name, rps: scaled(options.scaleMode) }, scaling: { source, mode: options.scaleMode, factor: scale } });
    if (options.multiplyDiagnostic && options.scaleMode === 'traffic') {
      diagnostics.push({
        trace: { name: `${name} (each second ×${scale})`, rps: scaled('multiply') },
        scaling: { source, mode: 'multiply', factor: scale },
      });
    }
  }
  const pick = (list: Entry[]): Entry[] =>
    options.only === undefined ? list : list.filter((e) => options.only!.some((o) => e.trace.name.startsWith(o)));

  const model = { capacity: 100, startDelay: { min: 5, max: 10 }, seed };
  const target = 70;
  const bounds = { min: 1, max: 1000 };
  const setup: ComparisonSetup = { model, policy: autoscalePolicy({ ...bounds, target: { type: 'rps', value: target } }), target, bounds };
  const compare = (e: Entry): Comparison & { scaling?: Entry['scaling'] } => ({
    ...runComparison(e.trace, setup),
    ...(e.scaling === undefined ? {} : { scaling: e.scaling }),
  });
  const traces = pick(entries).map(compare);
  const extra = pick(diagnostics).map((e) => ({ ...compare(e), note: MULTIPLY_NOTE }));

  return {
    bench: 'autoscale',
    model: {
      instance_capacity_rps: model.capacity,
      target_rps_per_instance: target,
      start_delay_s: [model.startDelay.min, model.startDelay.max],
      bounds,
      seed,
      step:
        `a step starts where the mean demand of the next ${STEP_HOLD} s is >= ${STEP_RISE}× the mean of the ${STEP_BEFORE} s before ` +
        `and higher by >= one instance's capacity; adequate = ready capacity >= that ${STEP_HOLD} s mean; not reached within ` +
        `${HORIZON} s counts as ${HORIZON}`,
      berth: { tick_s: 1, signal: 'edge rps of each second', tuning: DEFAULT_TUNING },
      hpa: {
        sync_s: HPA_DEFAULTS.syncPeriodSeconds,
        signal: `mean rps per ready pod over the last ${HPA_DEFAULTS.metricWindowSeconds} s (Pods metric, averageValue ${target})`,
        tolerance: HPA_DEFAULTS.tolerance,
        scale_up: HPA_DEFAULTS.scaleUp,
        scale_down: HPA_DEFAULTS.scaleDown,
      },
    },
    goals: 'on every trace: berth overload_seconds <= 50% of the HPA, instance_seconds <= 110% of the HPA; noisy-flat: zero replica changes',
    traces,
    goals_hold: traces.every((r) => r.goals.hold),
    ...(extra.length === 0 ? {} : { diagnostics: extra }),
    runtime_s: Math.round((performance.now() - started) / 100) / 10,
  };
}
