// One instance as the edge sees it: where it listens, whether it may take new work, what it is
// carrying now, and the connections held to it (so they can be let go when it leaves).
import { LatencyHistogram } from './latency-histogram.js';
import { freshOutlierState, type OutlierState } from './outlier-detection.js';
import type { InstanceEntry } from './route-table.js';
import { Roster } from './roster.js';

/** Something holding a connection to an instance, told to let go when the instance leaves. */
export interface InstanceAttachment {
  /** let go as soon as nothing is in flight on it (right away when idle) */
  release(): void;
  /** the grace period is over: close now */
  cut(): void;
  /** its place among its instance's attachments (roster.ts); -1 while attached to none */
  attachmentSlot: number;
}

export class RoutedInstance {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  ready: boolean;
  /** leaving by the table's word (draining) or because the table no longer lists it */
  leaving = false;
  /** when a leaving instance's grace ends (ms since epoch) */
  graceEndsAt = Infinity;
  /** requests sent and not yet answered; on TCP routes, open connections (the unit of work there) */
  inFlight = 0;
  /** client connections pinned to it (per-connection and TCP routes) */
  connections = 0;
  readonly outlier: OutlierState = freshOutlierState();
  readonly attachments = new Roster<'attachmentSlot', InstanceAttachment>('attachmentSlot');
  // totals since the edge started, read by the metrics
  requests = 0;
  /** answers by class: 1xx..5xx at 0..4 */
  readonly statuses = [0, 0, 0, 0, 0];
  /** connect failures and timeouts, counted apart from what the instance answered */
  failures = 0;
  connectionsTotal = 0;
  /** answered requests' latency on this instance (the service keeps its own total, which outlives instances) */
  readonly latency = new LatencyHistogram();

  constructor(entry: InstanceEntry) {
    this.id = entry.id;
    this.address = entry.address;
    this.port = entry.port;
    this.ready = entry.ready;
    this.leaving = entry.draining;
  }

  /** Same process at the same address: the table may still change its readiness or draining. */
  sameEndpoint(entry: InstanceEntry): boolean {
    return entry.address === this.address && entry.port === this.port;
  }

  /** Nothing left on it: its stop can go ahead. */
  get drained(): boolean {
    return this.leaving && this.inFlight === 0 && this.connections === 0;
  }

  /** Starts leaving: attachments let go as soon as they can; whatever is left is cut at `graceEndsAt`. */
  leave(graceEndsAt: number): void {
    if (!this.leaving) this.leaving = true;
    this.graceEndsAt = Math.min(this.graceEndsAt, graceEndsAt);
    this.releaseAll();
  }

  /** Asks every attachment to let go as soon as it can. */
  releaseAll(): void {
    for (const attachment of this.attachments.snapshot()) attachment.release();
  }

  cutAll(): void {
    for (const attachment of this.attachments.snapshot()) attachment.cut();
    this.attachments.clear();
  }

  countStatus(status: number): void {
    this.requests++;
    const index = Math.floor(status / 100) - 1;
    if (index >= 0 && index < 5) this.statuses[index]!++;
  }
}
