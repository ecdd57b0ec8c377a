// The one line an operator reads in `berth scale show` and in the AutoscaleDecided event:
// "rps 182 over 8 instances at target 20 → 10 (panic: demand 2.3× ready capacity)".
import type { ScaleTarget } from '../spec/scale.js';
import { metricLabel } from './signals.js';

/** A load figure as a person reads it: whole numbers as such, others with one decimal at most. */
export function figure(x: number): string {
  if (Number.isInteger(x)) return String(x);
  const rounded = Math.round(x * 10) / 10;
  return Math.abs(rounded) >= 100 ? String(Math.round(x)) : String(rounded);
}

export function reasonLine(
  target: ScaleTarget,
  observed: number,
  from: number,
  to: number,
  notes: readonly string[],
): string {
  const unit = target.type === 'cpu' ? '%' : '';
  const load = `${metricLabel(target)} ${figure(observed)}${unit}`;
  const instances = from === 1 ? '1 instance' : `${from} instances`;
  const tail = notes.length === 0 ? '' : ` (${notes.join('; ')})`;
  return `${load} over ${instances} at target ${figure(target.value)}${unit} → ${to}${tail}`;
}
