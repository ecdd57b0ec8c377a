// Instance logs (issue 6 item 5). The control plane does not dial agents: an agent long-polls
// `GET /v1/agent/log-requests` over the credential and the connection it already uses, and
// answers each request by POSTing batches of lines; the reply to each batch says whether the
// reader still wants more. Clients read `GET /v1/services/{service}/logs` as NDJSON.
import { z } from 'zod';
import { duration } from '../../spec/quantities.js';
import { MAX_BATCH, MAX_TAIL } from './log-limits.js';

export { MAX_BATCH, MAX_TAIL };

export const logRequestSchema = z.object({
  id: z.string(),
  instance: z.string(),
  /** the last lines to send first */
  tail: z.int().min(0).max(MAX_TAIL),
  /** epoch ms: only lines written since (as far as the agent can tell) */
  since: z.number().optional(),
  /** keep sending new lines until the reader leaves */
  follow: z.boolean(),
});
export type LogRequest = z.output<typeof logRequestSchema>;

export const logRequestsQuerySchema = z.object({ wait: z.coerce.number().int().min(0).max(60_000).default(25_000) });

export const logRequestsSchema = z.object({
  requests: z.array(logRequestSchema),
  /** requests whose reader left: stop following them */
  cancelled: z.array(z.string()),
});
export type LogRequests = z.output<typeof logRequestsSchema>;

export const logBatchSchema = z.strictObject({
  lines: z.array(z.string().max(64 * 1024)).max(MAX_BATCH),
  /** no more lines will come for this request */
  done: z.boolean().default(false),
  /** why the request cannot be answered (the instance is not on this host) */
  error: z.string().max(1000).optional(),
});
export type LogBatch = z.input<typeof logBatchSchema>;

export const logBatchReplySchema = z.object({ more: z.boolean() });
export type LogBatchReply = z.output<typeof logBatchReplySchema>;

const flag = z
  .enum(['true', 'false', '1', '0', ''], { error: (i) => `${JSON.stringify(i.input)} is not a flag; write true or false` })
  .transform((v) => v === 'true' || v === '1' || v === '');

export const serviceLogsQuerySchema = z.object({
  instance: z.string().min(1).optional(),
  /** 10m: lines written in the last ten minutes */
  since: duration({ positive: true }).optional(),
  tail: z.coerce.number().int().min(0).max(MAX_TAIL).default(100),
  follow: flag.default(false),
});

/** One NDJSON line of GET /v1/services/{service}/logs: a log line, or why an instance's logs are missing. */
export const logEntrySchema = z.union([
  z.object({ instance: z.string(), line: z.string() }),
  z.object({ instance: z.string(), error: z.string() }),
]);
export type LogEntry = z.output<typeof logEntrySchema>;
