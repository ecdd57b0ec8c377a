// Join tokens: what an admin hands to a new host so its agent can enroll (`berth agent --token`).
import { z } from 'zod';
import { strictObject } from '../../spec/strict-object.js';
import { duration } from '../../spec/quantities.js';

export const DEFAULT_JOIN_TTL = 60 * 60_000;

export const createJoinTokenSchema = z
  .strictObject({
    /** how long hosts may enroll with it: 30m, 24h */
    ttl: duration({ positive: true }).optional(),
    name: z.string().min(1).max(128).optional(),
  })
  .prefault({});
export type CreateJoinToken = z.input<typeof createJoinTokenSchema>;

export const joinTokenSchema = z.object({ id: z.string(), token: z.string(), expiresAt: z.string() });
export type JoinToken = z.output<typeof joinTokenSchema>;
