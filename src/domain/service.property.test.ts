// Whatever commands arrive, in whatever order, the service aggregate keeps its invariants.
import fc from 'fast-check';
import { expect, test } from 'vitest';
import { serviceSpecSchema } from '../spec/service.js';
import type { BerthEvent } from './events.js';
import { serviceDecider, type ServiceCommand } from './service.js';
import type { ServiceState } from './service-state.js';

const spec = serviceSpecSchema.parse({ run: 'node server.js' });
const t0 = Date.parse('2026-01-01T00:00:00Z');
const at = (offsetS: number): Date => new Date(t0 + offsetS * 1000);
const small = fc.integer({ min: -2, max: 12 });

const command: fc.Arbitrary<ServiceCommand> = fc.oneof(
  fc.constant<ServiceCommand>({ type: 'CreateService', name: 'web', tenant: 'acme', spec }),
  fc.constant<ServiceCommand>({ type: 'DeleteService' }),
  small.map((replicas): ServiceCommand => ({ type: 'SetReplicas', replicas })),
  fc.tuple(small, small).map(([min, max]): ServiceCommand => ({ type: 'SetScale', scale: { min, max, target: { type: 'rps', value: 10 } } })),
  fc.tuple(small, fc.integer({ min: -60, max: 600 }), fc.nat(600)).map(
    ([replicas, forS, nowS]): ServiceCommand => ({ type: 'StartBurst', replicas, until: at(nowS + forS), now: at(nowS) }),
  ),
  fc.tuple(fc.constantFrom('expired', 'cancelled' as const), fc.nat(1200)).map(([reason, nowS]): ServiceCommand => ({ type: 'EndBurst', reason, now: at(nowS) })),
  fc.tuple(small, small, fc.nat(600)).map(
    ([from, to, nowS]): ServiceCommand => ({ type: 'RecordAutoscaleDecision', from, to, reason: 'load', signals: {}, now: at(nowS) }),
  ),
  fc.option(small, { nil: undefined }).map((version): ServiceCommand => ({ type: 'CreateRelease', digest: 'sha256:x', spec, secretNames: [], ...(version === undefined ? {} : { version }) })),
  small.map((release): ServiceCommand => ({ type: 'StartRollout', release })),
  small.map((release): ServiceCommand => ({ type: 'CompleteRollout', release })),
  fc.constant<ServiceCommand>({ type: 'RevertRollout', reason: 'unhealthy' }),
  fc.tuple(fc.nat(5), small).map(([i, release]): ServiceCommand => ({ type: 'PlaceInstance', instance: `i${i}`, host: 'h1', release, port: null, replica: i })),
  fc.nat(5).map((i): ServiceCommand => ({ type: 'RequestInstanceStop', instance: `i${i}`, reason: 'scale-in' })),
);

function checkInvariants(state: ServiceState, burstSeen: boolean): void {
  for (let i = 1; i < state.releases.length; i++) expect(state.releases[i]!).toBeGreaterThan(state.releases[i - 1]!);
  if (state.scaling.mode === 'fixed') {
    expect(Number.isInteger(state.scaling.replicas) && state.scaling.replicas >= 0).toBe(true);
  } else {
    const { min, max, desired } = state.scaling;
    expect(0 <= min && min <= max).toBe(true);
    expect(desired).toBeGreaterThanOrEqual(min);
    // Only a burst lets the autoscaler go above max.
    if (!burstSeen) expect(desired).toBeLessThanOrEqual(max);
  }
  if (state.activeRelease !== null) expect(state.releases).toContain(state.activeRelease);
  if (state.rollout !== null) expect(state.releases).toContain(state.rollout.release);
  for (const instance of Object.values(state.instances)) expect(state.releases).toContain(instance.release);
}

test('no command sequence breaks the service invariants', () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 60 }), (commands) => {
      let state = serviceDecider.initialState();
      let deletedAt: number | undefined;
      let burstSeen = false;
      commands.forEach((c, i) => {
        const decision = serviceDecider.decide(c, state);
        if (!decision.ok) return;
        const events: readonly BerthEvent[] = decision.value;
        // A deleted service only lets its instances go.
        if (deletedAt !== undefined) for (const e of events) expect(e.type).toBe('InstanceStopRequested');
        if (c.type === 'StartBurst' && events.length > 0) expect(c.until.getTime()).toBeGreaterThan(c.now.getTime());
        for (const e of events) state = serviceDecider.evolve(state, e);
        if (state.status === 'deleted') deletedAt ??= i;
        burstSeen ||= state.burst !== null;
        checkInvariants(state, burstSeen);
      });
    }),
    { numRuns: 300 },
  );
});
