// plan.json (docs/sim.md): where each instance of a workload goes, in placement order, and
// the instances no host could take, with the scheduler's reasons.
import { z } from 'zod';
import { readFile } from './file-schema.js';

const instanceRef = { service: z.string().min(1), replica: z.number().int().min(0) };

export const planFileSchema = z.object({
  strategy: z.enum(['binpack', 'spread']).optional(),
  seed: z.union([z.number(), z.string()]).optional(),
  placements: z.array(z.object({ ...instanceRef, host: z.string().min(1) })),
  unplaceable: z.array(
    z.object({
      ...instanceRef,
      reasons: z.array(z.looseObject({ checker: z.string(), message: z.string() })),
    }),
  ),
});

export type PlanFile = z.output<typeof planFileSchema>;

export const readPlanFile = (json: unknown, file = 'plan.json'): PlanFile => readFile(planFileSchema, json, file);
