// `berth explain` (DESIGN §8, issue 6 item 7): walk desired -> placed -> running -> ready ->
// routed (then the rollout) and name the first link that breaks, with the evidence an operator
// needs: the scheduler's reasons, the last exit and log lines, the failing probe, the drain.
import { formatDuration } from '../core/quantity.js';
import type { Explanation, ExplainedInstance, LinkName } from './protocol/status-protocol.js';
import type { ReportedPlacement, ServiceReport } from './service-report.js';

type Link = Explanation['links'][number];
type Broken = NonNullable<Explanation['broken']>;

export interface ExplainInput {
  readonly report: ServiceReport;
  /** whether control loops run on this control plane */
  readonly reconciling: boolean;
  readonly now: Date;
  /** the last log lines of an instance; undefined when its agent cannot be asked */
  readonly tail: (instance: ReportedPlacement, lines: number) => Promise<string[] | undefined>;
}

const LOG_LINES = 10;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function explainService(input: ExplainInput): Promise<Explanation> {
  const { report, reconciling, now } = input;
  const { status, plan, instances } = report;
  const live = instances.filter((i) => i.live);
  const links: Link[] = [];
  let broken: Broken | null = null;
  const link = (name: LinkName, ok: boolean, summary: string, why?: Omit<Broken, 'link'>): void => {
    links.push({ link: name, ok, summary });
    if (!ok && broken === null && why) broken = { link: name, ...why };
  };

  // ---- desired ----
  const scale = status.scale.mode === 'fixed' ? `fixed replicas` : `autoscaled in [${status.scale.min}, ${status.scale.max}]`;
  const burst = status.burst && Date.parse(status.burst.until) > now.getTime() ? `, burst to ${status.burst.replicas} until ${status.burst.until}` : '';
  if (status.latestRelease === null) {
    link('desired', false, `${status.desired} (${scale}) but no release`, { reason: 'no-release', message: `${status.name} has no release yet; berth deploy creates one` });
  } else {
    link('desired', true, `${status.desired} (${scale}${burst})`);
  }

  // ---- placed ----
  const unplaceable = plan.status.unplaceable;
  if (status.placed >= status.desired) link('placed', true, `${status.placed}/${status.desired}`);
  else if (unplaceable.length > 0) {
    link('placed', false, `${status.placed}/${status.desired}: ${plural(unplaceable.length, 'instance')} unschedulable`, {
      reason: 'unschedulable',
      message: plan.status.messages.find((m) => m.includes('cannot be placed') || m.includes('binds port')) ?? unplaceable[0]?.reasons.map((r) => r.message).join('; ') ?? 'no host can take it',
      reasons: [...(unplaceable[0]?.reasons ?? [])],
    });
  } else {
    const why = reconciling
      ? { reason: 'placing', message: `the reconciler is placing ${status.desired - status.placed} more; run explain again in a moment` }
      : { reason: 'not-reconciling', message: 'no control loops run on this control plane (it is not the leader, or they are not started): nothing places instances' };
    link('placed', false, `${status.placed}/${status.desired}`, why);
  }

  // ---- running: the process is up ----
  const down = live.filter((i) => !['starting', 'ready', 'unhealthy'].includes(i.state));
  if (down.length === 0) link('running', true, `${status.running}/${status.placed}`);
  else {
    // A crash says the most: its exit and logs; then lost hosts; then agents that never reported.
    const first = down.find((i) => i.lastExit !== null || ['restarting', 'exited', 'oom'].includes(i.state)) ?? down[0]!;
    link('running', false, `${status.running}/${status.placed}: ${down.map((i) => `${i.id} ${i.state}`).join(', ')}`, await notRunning(first, input));
  }

  // ---- ready: the readiness probe passes ----
  const up = live.filter((i) => ['starting', 'unhealthy'].includes(i.state));
  if (up.length === 0) link('ready', true, `${status.ready}/${status.running}`);
  else {
    const first = up.find((i) => i.state === 'unhealthy') ?? up[0]!;
    const probe = first.message ?? 'no probe result reported yet';
    link(
      'ready',
      false,
      `${status.ready}/${status.running}: ${up.map((i) => `${i.id} ${i.state}`).join(', ')}`,
      first.state === 'unhealthy'
        ? { reason: 'failing-health', instance: first.id, message: `instance ${first.id} on ${first.hostName} fails its ready probe: ${probe}` }
        : { reason: 'starting', instance: first.id, message: `instance ${first.id} on ${first.hostName} has not passed its ready probe yet: ${probe}` },
    );
  }

  // ---- routed: the edge sends it requests ----
  const ready = instances.filter((i) => i.state === 'ready');
  if (status.route === null) link('routed', true, 'no http or tcp route: the edge does not route it');
  else {
    const unrouted = ready.filter((i) => !i.routed);
    const where = 'http' in status.route ? `${status.route.http.host}${status.route.http.path}` : `tcp :${status.route.tcp.port}`;
    if (unrouted.length === 0 && (status.routed > 0 || status.desired === 0)) link('routed', true, `${status.routed} via ${where}`);
    else if (unrouted.length === 0) link('routed', false, `0 via ${where}`, { reason: 'nothing-ready', message: `no instance of ${status.name} is ready, so the edge has nowhere to send ${where}` });
    else {
      const first = unrouted[0]!;
      link('routed', false, `${status.routed} via ${where}; ${unrouted.map((i) => i.id).join(', ')} ready but not routed`, notRouted(first));
    }
  }

  // ---- rollout ----
  const rollout = status.rollout;
  if (rollout === null) link('rollout', true, status.release === null ? 'none' : `release ${status.release} is live`);
  else if (rollout.failure !== undefined) {
    link('rollout', false, `release ${rollout.release} failed`, { reason: 'rollout-failed', message: rollout.failure });
  } else {
    const left = rollout.deadline === null ? '' : `, deadline ${rollout.deadline} (${formatDuration(Math.max(0, Date.parse(rollout.deadline) - now.getTime()))} left)`;
    const progress = rollout.healthy === undefined ? '' : `: ${rollout.healthy}/${rollout.desired} healthy`;
    link('rollout', false, `release ${rollout.release} rolling out${progress}${left}`, {
      reason: 'rollout-in-progress',
      message: `release ${rollout.release} is rolling out${progress}${left}; an instance not healthy by its deadline stops the rollout`,
    });
  }

  return {
    service: status,
    links,
    broken,
    instances: instances.map(({ observed: _o, hostStatus: _h, hostDraining: _d, live: _l, ...rest }): ExplainedInstance => rest),
    reconcileError: report.reconcileError,
  };
}

async function notRunning(i: ReportedPlacement, input: ExplainInput): Promise<Omit<Broken, 'link'>> {
  if (i.hostStatus === 'lost') return { reason: 'host-lost', instance: i.id, message: `instance ${i.id} is on host ${i.hostName}, which stopped sending heartbeats; it is replaced elsewhere` };
  if (i.state === 'unreported') {
    return { reason: 'not-reported', instance: i.id, message: `host ${i.hostName} has not reported instance ${i.id} yet (its agent may be starting it, or berth agent is not running there)` };
  }
  const exit = i.lastExit;
  const how = exit === null ? '' : exit.oom ? ' killed for memory (OOM)' : exit.code !== null ? ` with exit code ${exit.code}` : exit.signal !== null ? ` by signal ${exit.signal}` : '';
  const reason = i.state === 'oom' || exit?.oom ? 'oom' : i.restarts > 0 || i.state === 'restarting' ? 'crash-loop' : 'exited';
  const what = reason === 'crash-loop' ? `is crash-looping (${plural(i.restarts, 'restart')}): it last exited${how}` : `exited${how}`;
  const logs = await input.tail(i, LOG_LINES);
  const detail = [exit?.reason, i.message].filter((s): s is string => typeof s === 'string' && s !== '').join('; ');
  return {
    reason,
    instance: i.id,
    message: `instance ${i.id} on ${i.hostName} ${what}${detail ? ` (${detail})` : ''}`,
    ...(logs === undefined ? {} : { logs }),
  };
}

function notRouted(i: ReportedPlacement): Omit<Broken, 'link'> {
  if (!i.live) return { reason: 'draining', instance: i.id, message: `instance ${i.id} is draining (${i.stopReason ?? 'asked to stop'}): it takes no new requests and stops once its in-flight ones finish` };
  if (i.hostStatus !== 'active') return { reason: 'host-lost', instance: i.id, message: `instance ${i.id} is on host ${i.hostName}, which is ${i.hostStatus}: the edge does not route to it` };
  return { reason: 'no-port', instance: i.id, message: `instance ${i.id} is ready but its agent reported no port, so the edge cannot reach it` };
}
