// Follows the rollout of one release until it is live, reverted, failed or superseded, calling
// back with a progress line whenever the counts change (issue 6 item 3: progress while waiting).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServiceInfo } from '../api/protocol/service-protocol.js';
import type { BerthClient } from '../client/berth-client.js';
import { BerthError } from '../core/errors.js';

export type RolloutOutcome = 'live' | 'reverted' | 'failed' | 'superseded' | 'deleted';

export interface RolloutResult {
  readonly service: string;
  readonly release: number;
  readonly outcome: RolloutOutcome;
  /** why it reverted or failed, from the control loops */
  readonly reason?: string;
  readonly placed: number;
  readonly ready: number;
  readonly desired: number;
}

export interface RolloutProgress {
  readonly placed: number;
  readonly ready: number;
  readonly desired: number;
  /** instances of other releases still running */
  readonly old: number;
}

interface ReconcileView {
  readonly desired?: number;
  readonly rollout?: { readonly release: number; readonly failure?: string } | null;
  readonly messages?: readonly string[];
}

export function progressOf(service: ServiceInfo, release: number): RolloutProgress {
  const live = service.instances.filter((i) => i.stopRequestedAt === null);
  const mine = live.filter((i) => i.release === release);
  const view = service.reconcile as ReconcileView | null;
  return {
    placed: mine.length,
    ready: mine.filter((i) => i.state === 'ready').length,
    desired: view?.desired ?? service.replicas,
    old: service.instances.filter((i) => i.release !== release).length,
  };
}

export const formatProgress = (p: RolloutProgress): string => `placed ${p.placed}/${p.desired}, ready ${p.ready}/${p.desired}, old instances ${p.old}`;

export async function watchRollout(
  client: BerthClient,
  service: string,
  release: number,
  options: { onProgress?: (line: string) => void; intervalMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RolloutResult> {
  const started = Date.now();
  let last = '';
  for (;;) {
    let info: ServiceInfo;
    try {
      info = await client.service(service);
    } catch (error) {
      if (error instanceof BerthError && error.code === 'not_found') return { service, release, outcome: 'deleted', placed: 0, ready: 0, desired: 0 };
      throw error;
    }
    const progress = progressOf(info, release);
    const view = info.reconcile as ReconcileView | null;
    const result = (outcome: RolloutOutcome, reason?: string): RolloutResult => ({
      service,
      release,
      outcome,
      ...(reason === undefined ? {} : { reason }),
      placed: progress.placed,
      ready: progress.ready,
      desired: progress.desired,
    });
    const line = formatProgress(progress);
    if (line !== last) {
      options.onProgress?.(line);
      last = line;
    }
    if (info.rollout !== null && info.rollout.release > release) return result('superseded');
    if (info.rollout === null) {
      if (info.activeRelease === release) {
        // Live: wait for the old instances to be gone and the count ready, so the summary is the final picture.
        if (progress.old === 0 && progress.ready >= progress.desired) return result('live');
      } else {
        const releases = await client.releases(service);
        const mine = releases.releases.find((r) => r.version === release);
        if (mine?.revertedAt) return result('reverted', mine.revertReason ?? undefined);
        if (info.activeRelease !== null && info.activeRelease > release) return result('superseded');
      }
    } else if (info.rollout.release === release && view?.rollout?.failure !== undefined && view.rollout.release === release) {
      // Stopped without a revert (first release, or autoRevert off): it will not get better alone.
      return result('failed', view.messages?.[0] ?? view.rollout.failure);
    }
    if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) {
      return result('failed', `still rolling out after ${Math.round(options.timeoutMs / 1000)} s; berth explain ${service} says why`);
    }
    await sleep(options.intervalMs ?? 500, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}
