// What feeds the autoscaler through the API: the edges' load reports (every second), their
// requests to wake a service at zero, and external metrics pushed for a service (queue depth).
import { z } from 'zod';
import { strictObject } from '../../spec/strict-object.js';

const count = z.number().min(0);

/**
 * `POST /v1/edge/metrics`: an EdgeMetricsReport (src/edge/metrics-report.ts). Only what the
 * autoscaler and the agents' drain questions read is checked; other fields pass unread, so a
 * newer edge can add some.
 */
export const edgeMetricsSchema = z.object({
  edge: z.string().min(1).max(256),
  at: z.string(),
  intervalMs: count,
  routeTableVersion: z.number(),
  services: z.array(
    z.object({
      service: z.string().min(1),
      inFlight: count,
      concurrency: count,
      requests: count,
      rps: count,
      queued: count,
      rejected: count,
      /** client connections pinned to an instance now (a WebSocket, a keep-alive client); optional for older edges */
      connections: count.optional(),
      /** optional so a reporter that leaves them out is still heard: its edge then holds no stop */
      instances: z.array(z.object({ id: z.string().min(1), leaving: z.boolean(), drained: z.boolean() })).readonly().optional(),
    }),
  ),
});
export type EdgeMetrics = z.input<typeof edgeMetricsSchema>;

/** `POST /v1/services/{service}/activate`: an edge holds `queued` requests for a service at zero. */
export const activateRequestSchema = strictObject({
  edge: z.string().min(1).max(256),
  queued: z.int().min(0),
});
export type ActivateRequest = z.input<typeof activateRequestSchema>;

export const activateResponseSchema = z.object({ service: z.string(), replicas: z.int(), activated: z.boolean() });
export type ActivateResponse = z.output<typeof activateResponseSchema>;

/** `POST /v1/services/{service}/metrics`: the service's current total of an external metric. */
export const externalMetricSchema = strictObject({
  metric: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]*$/, { error: (i) => `"${String(i.input)}" is not a metric name; write e.g. queue_depth` }),
  value: z.number().min(0, { error: 'is negative; send the current total, 0 or more (e.g. the queue depth)' }),
});
export type ExternalMetricRequest = z.input<typeof externalMetricSchema>;

export const externalMetricResponseSchema = z.object({
  service: z.string(),
  metric: z.string(),
  value: z.number(),
  at: z.string(),
  /** The metric the service autoscales on, if any: a different name is stored but not used. */
  target: z.string().nullable(),
});
export type ExternalMetricResponse = z.output<typeof externalMetricResponseSchema>;
