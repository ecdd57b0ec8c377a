// An explanation as the few lines `berth explain` prints.
import type { Explanation } from './explain.js';

const pct = (score: number): string => score.toFixed(3);

export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  const chosen = e.result.ok ? e.result.host : undefined;
  const chosenName = e.candidates.find((c) => c.host === chosen)?.name ?? chosen;
  lines.push(`instance ${e.instance}: ${chosen === undefined ? 'unplaceable' : `placed on ${chosenName} (${chosen})`}`);
  const skipped = Object.entries(e.skipped).map(([checker, n]) => `${n} by ${checker}`);
  lines.push(
    `  ${e.hosts} hosts, ${e.feasible} feasible; the selection visited ${e.visited} and ranked ${e.candidates.length}${skipped.length > 0 ? ` (skipped ${skipped.join(', ')})` : ''}`,
  );
  for (const f of e.filtered) {
    if (f.hosts === 0) continue;
    const more = f.hosts > f.sample.length ? ', …' : '';
    lines.push(`  filtered by ${f.checker}: ${f.hosts} (${f.sample.join(', ')}${more})`);
  }
  if (e.spreadLevel > 0) lines.push(`  replica spread level: hosts holding at most ${e.spreadLevel} replicas of the service`);
  if (e.candidates.length > 0) {
    lines.push('  candidates:');
    for (const c of e.candidates) {
      const scores = Object.entries(c.scores)
        .map(([k, v]) => `${k} ${pct(v)}`)
        .join('  ');
      const mark = c.host === chosen ? '*' : ' ';
      lines.push(`   ${mark} ${c.name.padEnd(16)} ${pct(c.score)}  (${scores})`);
    }
  }
  if (!e.result.ok) for (const r of e.result.reasons) lines.push(`  reason: ${r.message}`);
  return lines.join('\n');
}
