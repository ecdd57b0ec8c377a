import { describe, expect, it } from 'vitest';
import { GI, host } from './fleet.fixture.js';
import type { Fleet, PlacedInstance } from './fleet.js';
import { planReschedule } from './reschedule.js';

const instance = (id: string, service: string, on: string, extra: Partial<PlacedInstance> = {}): PlacedInstance => ({
  id,
  service,
  replica: Number(id.split('-').at(-1)),
  host: on,
  resources: { memory: GI, cpu: 100 },
  ...extra,
});

describe('planReschedule', () => {
  it('drains in waves of at most maxParallel, interleaving services', () => {
    const fleet: Fleet = {
      clusters: [{ name: 'default' }],
      hosts: [host('old', { state: 'draining' }), host('n1'), host('n2'), host('n3')],
      instances: [
        instance('web-0', 'web', 'old'),
        instance('web-1', 'web', 'old'),
        instance('web-2', 'web', 'old'),
        instance('api-0', 'api', 'old'),
        instance('api-1', 'api', 'old'),
        instance('web-3', 'web', 'n1'),
      ],
    };
    const plan = planReschedule(fleet, { maxParallel: 2 });
    expect(plan.stranded).toEqual([]);
    expect(plan.unplaceable).toEqual([]);
    expect(plan.moves).toHaveLength(5);
    expect(plan.waves).toBe(3);
    expect(plan.moves.map((m) => m.wave)).toEqual([1, 1, 2, 2, 3]);
    for (const m of plan.moves) {
      expect(m.from).toBe('old');
      expect(['n1', 'n2', 'n3']).toContain(m.to);
      expect(m.cause).toBe('draining');
    }
    // one wave never takes two replicas of a service while another service has moves left
    for (const wave of [1, 2]) {
      const services = plan.moves.filter((m) => m.wave === wave).map((m) => m.service);
      expect(new Set(services).size).toBe(services.length);
    }
    // replacements spread over the remaining hosts: with web-3 on n1, every host ends with 1 or 2
    const web = new Map([['n1', 1], ['n2', 0], ['n3', 0]]);
    for (const m of plan.moves.filter((x) => x.service === 'web')) web.set(m.to, web.get(m.to)! + 1);
    expect(Math.max(...web.values()) - Math.min(...web.values())).toBeLessThanOrEqual(1);
  });

  it('replaces the stateless instances of a lost host at once and reports volume instances as stranded', () => {
    const fleet: Fleet = {
      clusters: [{ name: 'default' }],
      hosts: [host('gone', { state: 'lost' }), host('ok1'), host('ok2')],
      instances: [
        instance('web-0', 'web', 'gone'),
        instance('web-1', 'web', 'gone'),
        instance('db-0', 'db', 'gone', { volume: 'db-data-0' }),
        instance('db-1', 'db', 'ok1', { volume: 'db-data-1' }),
      ],
    };
    const plan = planReschedule(fleet, { maxParallel: 1 });
    expect(plan.moves.map((m) => [m.instance, m.wave, m.cause])).toEqual([
      ['web-0', 0, 'lost'],
      ['web-1', 0, 'lost'],
    ]);
    expect(new Set(plan.moves.map((m) => m.to))).toEqual(new Set(['ok1', 'ok2']));
    expect(plan.stranded).toEqual([
      {
        instance: 'db-0',
        service: 'db',
        host: 'gone',
        volume: 'db-data-0',
        cause: 'lost',
        message: 'volume db-data-0 lives on lost host gone: restore it from a backup or bring the host back',
      },
    ]);
    expect(plan.waves).toBe(1);
  });

  it('keeps a drained instance with a volume in place, and reports what no host can take', () => {
    const fleet: Fleet = {
      clusters: [{ name: 'default' }],
      hosts: [host('old', { state: 'draining' }), host('small', { memory: { physical: 2 * GI, reserved: 0, safetyBuffer: 0 } })],
      instances: [
        instance('db-0', 'db', 'old', { volume: 'v0' }),
        instance('big-0', 'big', 'old', { resources: { memory: 8 * GI, cpu: 0 }, placement: { region: 'eu' } }),
        instance('web-0', 'web', 'old'),
      ],
    };
    const plan = planReschedule(fleet);
    expect(plan.stranded.map((s) => [s.instance, s.cause])).toEqual([['db-0', 'draining']]);
    expect(plan.stranded[0]!.message).toContain('migrate the volume before the drain can finish');
    expect(plan.moves.map((m) => [m.instance, m.to, m.wave])).toEqual([['web-0', 'small', 1]]);
    expect(plan.unplaceable).toHaveLength(1);
    expect(plan.unplaceable[0]).toMatchObject({ instance: 'big-0', host: 'old', cause: 'draining' });
    expect(plan.unplaceable[0]!.reasons.map((r) => r.checker)).toContain('memory');
  });
});
