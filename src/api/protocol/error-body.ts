// The one shape of every API error (DESIGN §8), built from a BerthError on the server and turned
// back into one by the client.
import { z } from 'zod';

export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});
export type ErrorBody = z.output<typeof errorBodySchema>;
