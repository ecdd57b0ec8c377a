// The host reconciler's decision (issue 6 item 6), pure: a host whose heartbeats stopped for
// the timeout is lost, a lost host that reports again is recovered, and a drain is complete
// once no placement is left on the host and its agent reports nothing still stopping there. Moving the instances is the service reconciler's
// work (drain permits); a lost host's instances are replaced and stopped there too, so a host
// that comes back finds them no longer assigned and its agent stops them.
import type { HostCommand } from '../domain/host.js';
import type { HostStatus } from './host-status.js';
import type { HostView } from './host-view.js';

export const DEFAULT_HEARTBEAT_TIMEOUT = 30_000;

export interface HostPlanInput {
  readonly host: HostView;
  readonly heartbeatAt: Date | undefined;
  /**
   * When this control plane began hearing heartbeats: a leader that just took over has heard
   * none yet, and must not call every host lost before they had a timeout to report.
   */
  readonly watchingSince: Date;
  /** Placements on the host not asked to stop; `stranded` ones are pinned by a volume there. */
  readonly placed: readonly { readonly id: string; readonly stranded: boolean }[];
  /**
   * Instances the host's agent last reported still holding the host that are not among `placed`:
   * asked to stop and not yet stopped (deregistration delay, stop grace).
   */
  readonly stopping: readonly string[];
  readonly now: Date;
  readonly heartbeatTimeout?: number;
}

export interface HostPlan {
  readonly commands: readonly HostCommand[];
  readonly status: HostStatus;
  readonly requeueAfter?: number;
}

export function planHost(input: HostPlanInput): HostPlan {
  const { host, heartbeatAt, now, placed } = input;
  const timeout = input.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT;
  const at = now.getTime();
  const state = host.state;
  const commands: HostCommand[] = [];
  const messages: string[] = [];
  const wakeAt: number[] = [];
  const lastSeen = heartbeatAt ?? host.lostLastSeen;
  const done = (status: HostStatus['status']): HostPlan => {
    const soonest = Math.min(...wakeAt.filter((t) => t > at));
    return {
      commands,
      status: {
        host: host.id,
        status,
        lastSeen: lastSeen?.toISOString() ?? null,
        drain:
          state.drain === null
            ? null
            : { deadline: state.drain.deadline, maxParallel: state.drain.maxParallel, remaining: placed.length, stranded: placed.filter((p) => p.stranded).length },
        messages,
        at: now.toISOString(),
      },
      ...(Number.isFinite(soonest) ? { requeueAfter: soonest - at } : {}),
    };
  };
  if (state.status === 'absent' || state.status === 'decommissioned') return done(state.status);

  let status: HostStatus['status'] = state.status;
  if (state.status === 'active') {
    const heard = Math.max(heartbeatAt?.getTime() ?? 0, host.enrolledAt?.getTime() ?? 0, input.watchingSince.getTime());
    if (at - heard > timeout) {
      commands.push({ type: 'MarkHostLost', lastSeen: heartbeatAt ?? host.enrolledAt ?? input.watchingSince });
      messages.push(`no heartbeat for ${Math.round((at - heard) / 1000)}s (timeout ${timeout / 1000}s): lost; its instances are replaced elsewhere`);
      status = 'lost';
    } else {
      wakeAt.push(heard + timeout + 1);
    }
  } else if (heartbeatAt !== undefined && at - heartbeatAt.getTime() <= timeout && heartbeatAt.getTime() > (host.lostLastSeen?.getTime() ?? 0)) {
    commands.push({ type: 'RecoverHost' });
    status = 'active';
  } else {
    messages.push(`lost: no heartbeat since ${lastSeen?.toISOString() ?? 'enrollment'}`);
  }

  if (state.drain !== null) {
    // A drained host is one that can be switched off: the moved instances have stopped, not only
    // been asked to. A lost host's report is stale and its instances are already replaced.
    const stillStopping = status === 'active' ? input.stopping.length : 0;
    if (placed.length === 0 && stillStopping === 0) {
      commands.push({ type: 'CompleteDrain' });
    } else if (placed.length === 0) {
      messages.push(`waiting for ${stillStopping} instance${stillStopping === 1 ? '' : 's'} to stop`);
    } else {
      const deadline = Date.parse(state.drain.deadline);
      const stranded = placed.filter((p) => p.stranded).length;
      if (stranded > 0) messages.push(`${stranded} instance${stranded === 1 ? ' is' : 's are'} pinned by volumes on the host: move or delete the volumes to finish the drain`);
      if (deadline > at) wakeAt.push(deadline);
      else messages.push(`drain deadline ${state.drain.deadline} passed with ${placed.length} instances left`);
    }
  }
  return done(status);
}
