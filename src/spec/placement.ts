// Where a service's instances may run: a region and host labels that must all match.
import { z } from 'zod';
import { scalarText } from './names.js';
import { strictObject } from './strict-object.js';

export interface PlacementSpec {
  readonly region?: string;
  /** every label must be on the host with this value */
  readonly labels: Readonly<Record<string, string>>;
}

const LABEL_KEY = /^[a-zA-Z0-9]([a-zA-Z0-9._/-]{0,61}[a-zA-Z0-9])?$/;

export const placementSchema = strictObject({
  region: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, { error: (i) => `"${String(i.input)}" is not a region name; write e.g. eu-west` })
    .optional(),
  labels: z
    .record(
      z.string().regex(LABEL_KEY, { error: (i) => `"${String(i.input)}" is not a label name (letters, digits, ".", "_", "-", "/"); write e.g. disk` }),
      scalarText,
    )
    .default({}),
});
