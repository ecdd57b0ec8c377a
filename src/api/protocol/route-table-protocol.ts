// `GET /v1/edge/routes`: the long-poll an edge keeps open for its route table. The table itself is
// the edge's own schema (src/edge/route-table.ts), so the two sides cannot drift apart.
import { z } from 'zod';

export const ROUTE_TABLE_HOLD_MS = 25_000;

export const routeTableQuerySchema = z.object({
  /** the version the edge has; -1 when it has none */
  after: z.coerce.number().int().min(-1).optional(),
  /** ms to hold the request without a change before answering 204 */
  wait: z.coerce.number().int().min(0).max(60_000).default(ROUTE_TABLE_HOLD_MS),
});
