// Service secrets (`/v1/services/{service}/secrets`): values go in, and only names, versions and
// update times ever come out. No message here echoes a value.
import { z } from 'zod';
import { envName } from '../../spec/names.js';

export const MAX_SECRET_BYTES = 64 * 1024;

const secretValue = z
  .string({ error: 'not a string; a secret value is text (send numbers and JSON as strings)' })
  .refine((v) => Buffer.byteLength(v) <= MAX_SECRET_BYTES, { error: `longer than ${MAX_SECRET_BYTES} bytes; keep large material in a volume and put its path in the secret` });

export const setSecretsSchema = z.strictObject({
  /** NAME -> value; each is delivered to the service's instances as an environment variable */
  secrets: z.record(envName, secretValue).refine((s) => Object.keys(s).length > 0, { error: 'empty; give at least one NAME: value' }),
});
export type SetSecrets = z.input<typeof setSecretsSchema>;

export const secretInfoSchema = z.object({
  name: z.string(),
  /** null: declared in the spec's secrets but not set yet (instances cannot start) */
  version: z.int().nullable(),
  updatedAt: z.string().nullable(),
  /** listed in the service's berth.yaml `secrets` */
  declared: z.boolean(),
});
export type SecretInfo = z.output<typeof secretInfoSchema>;

export const secretListSchema = z.object({ service: z.string(), secrets: z.array(secretInfoSchema) });
export type SecretList = z.output<typeof secretListSchema>;

export const secretsChangedSchema = z.object({
  service: z.string(),
  /** the names changed */
  changed: z.array(z.string()),
  /** the release created to deliver the change; null when the service has no release yet */
  release: z.int().nullable(),
  rolloutStarted: z.boolean(),
});
export type SecretsChanged = z.output<typeof secretsChangedSchema>;
