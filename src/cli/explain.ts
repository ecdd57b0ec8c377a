// `berth explain <service>`: one screen on why a service is or is not converging: each link of
// desired -> placed -> running -> ready -> routed (then the rollout), the first broken one with
// its evidence, and the instances.
import type { Command } from 'commander';
import type { Explanation } from '../api/protocol/status-protocol.js';
import { connect, withConnectOptions, type ConnectOptions } from './connect.js';
import type { CommandModule } from './main.js';
import { releaseText, scaleText } from './status.js';
import { formatTable } from './table.js';

interface Options extends ConnectOptions {
  json?: boolean;
}

export function formatExplanation(e: Explanation): string[] {
  const s = e.service;
  const lines = [`${s.name}: release ${releaseText(s)}, scale ${scaleText(s)}`, ''];
  for (const l of e.links) lines.push(`  ${l.ok ? 'ok ' : 'NO '} ${l.link.padEnd(8)} ${l.summary}`);
  lines.push('');
  if (e.broken === null) lines.push('converged: every link holds');
  else {
    lines.push(`first broken link: ${e.broken.link} (${e.broken.reason})`, `  ${e.broken.message}`);
    for (const r of e.broken.reasons ?? []) {
      const message = (r as { message?: unknown }).message;
      if (typeof message === 'string') lines.push(`  - ${message}`);
    }
    if (e.broken.logs !== undefined) {
      lines.push(`  last ${e.broken.logs.length} log lines of ${e.broken.instance ?? 'the instance'}:`);
      for (const line of e.broken.logs) lines.push(`    | ${line}`);
    }
  }
  if (e.reconcileError !== null) lines.push(`control loops: ${e.reconcileError}`);
  if (e.instances.length > 0) {
    lines.push('');
    const rows = e.instances.map((i) => [
      i.id,
      i.hostName,
      `v${i.release}`,
      i.stopReason === null ? i.state : `${i.state} (stopping: ${i.stopReason})`,
      String(i.restarts),
      i.lastExit === null ? '-' : i.lastExit.oom ? 'oom' : i.lastExit.code !== null ? `code ${i.lastExit.code}` : `signal ${i.lastExit.signal ?? '?'}`,
      i.routed ? 'yes' : 'no',
    ]);
    lines.push(...formatTable(['INSTANCE', 'HOST', 'RELEASE', 'STATE', 'RESTARTS', 'LAST EXIT', 'ROUTED'], rows));
  }
  return lines;
}

export const explainCommand: CommandModule = (program: Command) => {
  withConnectOptions(
    program
      .command('explain')
      .description('why a service is not converging: desired -> placed -> running -> ready -> routed, naming the first broken link')
      .argument('<service>')
      .option('--json', 'print JSON'),
  ).action(async (service: string, options: Options) => {
    const client = await connect(options);
    const explanation = await client.explain(service);
    process.stdout.write(options.json ? `${JSON.stringify(explanation, null, 2)}\n` : `${formatExplanation(explanation).join('\n')}\n`);
  });
};
