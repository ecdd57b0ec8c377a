import { describe, expect, it } from 'vitest';
import { readPlanFile } from './plan-file.js';

describe('plan.json', () => {
  it('names a missing field with the shape to write, not zod\'s words', () => {
    expect(() => readPlanFile({ placements: [], unplaceable: [{ service: 'a', replica: 0 }] }, 'p.json')).toThrow(
      'p.json unplaceable[0].reasons: missing; add "reasons": [{ "checker": "memory", "message": "…" }]',
    );
    expect(() => readPlanFile({ placements: [{ service: 'a', replica: -1, host: '' }], unplaceable: [] }, 'p.json')).toThrow(
      'p.json placements[0].replica: -1 is too small; write a number at least 0\np.json placements[0].host: is empty; write e.g. "host": "h1"',
    );
  });
});
