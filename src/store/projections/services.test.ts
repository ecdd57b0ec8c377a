// The services table must tell what the service aggregate decides on: for any run of commands,
// the row folded from the events agrees with the aggregate's state.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import type { BerthEvent } from '../../domain/events.js';
import { serviceDecider, type ServiceCommand } from '../../domain/service.js';
import { desiredReplicas } from '../../domain/service-state.js';
import { serviceSpecSchema } from '../../spec/service.js';
import { projectRows } from '../projection.js';
import type { RecordedEvent } from '../recorded-event.js';
import { servicesProjection, type ServiceRow } from './services.js';

const spec = serviceSpecSchema.parse({ run: 'node server.js' });
const now = new Date('2026-01-01T00:00:00Z');
const n = fc.integer({ min: 0, max: 8 });

const command: fc.Arbitrary<ServiceCommand> = fc.oneof(
  n.map((replicas): ServiceCommand => ({ type: 'SetReplicas', replicas })),
  fc.tuple(n, n).map(([a, b]): ServiceCommand => ({ type: 'SetScale', scale: { min: Math.min(a, b), max: Math.max(a, b, 1), target: { type: 'rps', value: 5 } } })),
  fc.tuple(n, n).map(([from, to]): ServiceCommand => ({ type: 'RecordAutoscaleDecision', from, to, reason: 'load', signals: {}, now })),
  n.map((replicas): ServiceCommand => ({ type: 'StartBurst', replicas: replicas + 1, until: new Date(now.getTime() + 60_000), now })),
  fc.constant<ServiceCommand>({ type: 'EndBurst', reason: 'cancelled', now }),
  fc.constant<ServiceCommand>({ type: 'CreateRelease', digest: 'sha256:x', spec, secretNames: [] }),
  n.map((release): ServiceCommand => ({ type: 'StartRollout', release })),
  n.map((release): ServiceCommand => ({ type: 'CompleteRollout', release })),
  fc.constant<ServiceCommand>({ type: 'RevertRollout', reason: 'unhealthy' }),
  fc.constant<ServiceCommand>({ type: 'DeleteService' }),
);

test('the services row agrees with the service aggregate', () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
      let state = serviceDecider.initialState();
      const log: RecordedEvent[] = [];
      const record = (events: readonly BerthEvent[]): void => {
        for (const e of events) {
          state = serviceDecider.evolve(state, e);
          log.push({ ...e, streamId: 'service-web', streamVersion: log.length + 1, globalPosition: log.length + 1, txId: 1, at: now, metadata: {} } as RecordedEvent);
        }
      };
      const create = serviceDecider.decide({ type: 'CreateService', name: 'web', tenant: 'acme', spec }, state);
      if (create.ok) record(create.value);
      for (const c of commands) {
        const decision = serviceDecider.decide(c, state);
        if (decision.ok) record(decision.value);
      }
      const rows = new Map<string, ServiceRow>();
      projectRows(servicesProjection, rows, log);
      const row = rows.get('web');
      expect(row).toBeDefined();
      expect(row?.status).toBe(state.status);
      expect(row?.replicas).toBe(desiredReplicas(state.scaling));
      expect(row?.scale === null).toBe(state.scaling.mode === 'fixed');
      expect(row?.latest_release).toBe(state.releases.at(-1) ?? null);
      expect(row?.active_release).toBe(state.activeRelease);
      expect(row?.rollout).toEqual(state.rollout);
      expect(row?.burst).toEqual(state.burst);
      expect(row?.stream_version).toBe(log.length);
    }),
    { numRuns: 300 },
  );
});
