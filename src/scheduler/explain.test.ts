import { describe, expect, it } from 'vitest';
import { explain } from './explain.js';
import { GI, host as plainHost } from './fleet.fixture.js';
import type { Fleet, Host } from './fleet.js';
import { formatExplanation } from './format-explanation.js';

const host = (id: string, extra: Partial<Host> = {}): Host => plainHost(id, { name: `${id}.example`, ...extra });

const fleet: Fleet = {
  clusters: [{ name: 'default' }],
  hosts: [
    host('c1', { state: 'cordoned' }),
    host('c2', { state: 'lost' }),
    host('us1', { region: 'us' }),
    host('full'),
    host('tight', { labels: { zone: 'eu-b' } }),
    host('roomy'),
    host('fresh'),
  ],
  instances: [
    { id: 'f', service: 'other', host: 'full', resources: { memory: 15.5 * GI, cpu: 0 } },
    { id: 't', service: 'other', host: 'tight', resources: { memory: 12 * GI, cpu: 0 } },
    { id: 'r', service: 'other', host: 'roomy', resources: { memory: 4 * GI, cpu: 0 } },
  ],
};

describe('explain', () => {
  it('counts what each checker filtered, ranks the candidates and names the choice', () => {
    const e = explain(fleet, { service: 'web', replica: 2, resources: { memory: 2 * GI, cpu: 250 }, placement: { region: 'eu' } });
    expect(e.instance).toBe('web/2');
    expect(e.hosts).toBe(7);
    expect(e.filtered).toEqual([
      { checker: 'schedulable', hosts: 2, sample: expect.arrayContaining(['c1.example', 'c2.example']) as unknown },
      { checker: 'placement', hosts: 1, sample: ['us1.example'] },
      { checker: 'memory', hosts: 1, sample: ['full.example'] },
      { checker: 'cpu', hosts: 0, sample: [] },
      { checker: 'replica-spread', hosts: 0, sample: [] },
    ]);
    expect(e.feasible).toBe(3);
    expect(e.result).toEqual({ ok: true, host: 'tight' });
    // hosts in use are ranked; the empty host is not opened while they fit
    expect(e.candidates.map((c) => c.host).sort()).toEqual(['roomy', 'tight']);
    expect(e.candidates[0]!.host).toBe('tight');
    expect(Object.keys(e.candidates[0]!.scores)).toEqual(['fit', 'anti-affinity', 'zone-spread']);
    for (const c of e.candidates) {
      for (const s of Object.values(c.scores)) expect(s >= 0 && s <= 1).toBe(true);
      expect(c.score).toBeCloseTo((c.scores.fit! + c.scores['anti-affinity']! + c.scores['zone-spread']!) / 3, 12);
    }
    expect(e.visited).toBeLessThanOrEqual(4);

    const text = formatExplanation(e);
    expect(text).toContain('instance web/2: placed on tight.example (tight)');
    expect(text).toContain('filtered by schedulable: 2');
    expect(text).toContain('filtered by memory: 1 (full.example)');
    expect(text).toMatch(/\* tight\.example +\d\.\d{3} +\(fit \d\.\d{3} {2}anti-affinity 1\.000 {2}zone-spread 1\.000\)/);
  });

  it('shows what the bounded selection skipped, and why', () => {
    const withReplica: Fleet = { ...fleet, instances: [...fleet.instances, { id: 'w', service: 'web', host: 'tight', resources: { memory: GI, cpu: 0 } }] };
    const e = explain(withReplica, { service: 'web', replica: 1, resources: { memory: 2 * GI, cpu: 0 } });
    expect(e.skipped).toEqual({ 'replica-spread': 1 });
    expect(e.result).toEqual({ ok: true, host: 'roomy' });
    expect(formatExplanation(e)).toContain('(skipped 1 by replica-spread)');
  });

  it('explains an unplaceable request with its reasons', () => {
    const e = explain(fleet, { service: 'web', replica: 0, resources: { memory: 32 * GI, cpu: 0 } });
    expect(e.result.ok).toBe(false);
    expect(e.candidates).toEqual([]);
    const text = formatExplanation(e);
    expect(text).toContain('instance web/0: unplaceable');
    expect(text).toContain('reason: 5 hosts have less than 32Gi memory free (largest free: 16Gi)');
  });
});
