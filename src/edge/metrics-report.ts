// The load report an edge pushes to the control plane every second (`POST /v1/edge/metrics`),
// the autoscaler's input for concurrency and rps targets. Counts are for the interval since the
// previous report; gauges are as of `at`. Several edges each send their own: the control plane
// sums the latest report of every edge.
import type { RoutingMode } from './route-table.js';

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx';

/** Latency quantiles in milliseconds over the interval, interpolated within the histogram's buckets. */
export interface LatencyQuantiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
}

export interface InstanceLoad {
  readonly id: string;
  /** requests sent to it and not yet answered (TCP routes: open connections), now */
  readonly inFlight: number;
  /** client connections pinned to it (per-connection and TCP routes), now */
  readonly connections: number;
  /** answered in the interval */
  readonly requests: number;
  /** 5xx answers plus failed connections in the interval */
  readonly errors: number;
  /** of the requests it answered in the interval; null without any */
  readonly latencyMs: LatencyQuantiles | null;
  readonly ready: boolean;
  /** draining or gone from the table, still finishing work */
  readonly leaving: boolean;
  /** leaving and carrying nothing: the control plane may stop it now */
  readonly drained: boolean;
  /** taken out by outlier detection until this time (ISO), if now */
  readonly ejectedUntil?: string;
}

export interface ServiceLoad {
  readonly service: string;
  readonly kind: 'http' | 'tcp';
  readonly mode: RoutingMode | 'tcp';
  /** in-flight requests now (TCP routes: open connections) */
  readonly inFlight: number;
  /** time-weighted mean of in-flight requests over the interval: the concurrency signal */
  readonly concurrency: number;
  readonly requests: number;
  readonly rps: number;
  readonly statuses: Readonly<Record<StatusClass, number>>;
  /** over the interval; null without requests */
  readonly latencyMs: LatencyQuantiles | null;
  readonly connections: number;
  /** waiting for a hard limit or the activator, now */
  readonly queued: number;
  /** answered 503 by the edge for want of capacity, in the interval */
  readonly rejected: number;
  readonly retries: number;
  readonly instances: readonly InstanceLoad[];
}

export interface EdgeMetricsReport {
  /** names the edge; reports from one edge replace its previous one */
  readonly edge: string;
  readonly at: string;
  readonly intervalMs: number;
  readonly routeTableVersion: number;
  readonly services: readonly ServiceLoad[];
}
