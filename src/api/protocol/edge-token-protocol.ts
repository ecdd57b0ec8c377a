// Edge tokens: the credential a standalone `berth edge` reads route tables and reports load with.
import { z } from 'zod';

export const createEdgeTokenSchema = z
  .strictObject({
    /** which edge holds it, for the record and for revocation */
    name: z.string().min(1).max(128).optional(),
  })
  .prefault({});
export type CreateEdgeToken = z.input<typeof createEdgeTokenSchema>;

export const edgeTokenSchema = z.object({ id: z.string(), token: z.string(), name: z.string() });
export type EdgeToken = z.output<typeof edgeTokenSchema>;
