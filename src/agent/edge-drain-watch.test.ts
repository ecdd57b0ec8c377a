import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DrainAnswer } from '../api/protocol/agent-protocol.js';
import { EdgeDrainWatch } from './edge-drain-watch.js';

/** A control plane that answers from `drained`, or fails while `down`, and records each question. */
function fakeControlPlane() {
  const cp = {
    drained: new Set<string>(),
    down: false,
    questions: [] as string[][],
    ask: async (instances: string[]): Promise<DrainAnswer> => {
      cp.questions.push([...instances].sort());
      if (cp.down) throw new Error('connect ECONNREFUSED');
      return { instances: instances.map((id) => ({ id, drained: cp.drained.has(id), holding: cp.drained.has(id) ? [] : ['edge-a'] })) };
    },
  };
  return cp;
}

/** Polls `condition` every 5 ms, for at most 5 s: no timing asserts on a loaded machine. */
async function eventually(condition: () => boolean): Promise<void> {
  for (let n = 0; n < 1_000 && !condition(); n++) await sleep(5);
  expect(condition()).toBe(true);
}

describe('EdgeDrainWatch', () => {
  let closing = new AbortController();
  afterEach(() => {
    closing.abort();
    closing = new AbortController();
  });

  it('asks once for every instance waiting, and wakes each as soon as its edges are done', async () => {
    const cp = fakeControlPlane();
    const watch = new EdgeDrainWatch(cp.ask, closing.signal, undefined, 10);
    const far = Date.now() + 10_000;
    let oneDone = false;
    const one = watch.until('web-1', far).then(() => (oneDone = true));
    const two = watch.until('web-2', far);
    await eventually(() => cp.questions.length > 0);
    expect(cp.questions[0]).toEqual(['web-1', 'web-2']);
    expect(oneDone).toBe(false);

    cp.drained.add('web-1');
    await one;
    expect(watch.drained('web-1')).toBe(true);
    expect(watch.drained('web-2')).toBe(false);
    // web-1 answered, web-2 still asked about, alone
    await eventually(() => cp.questions.at(-1)?.join() === 'web-2');
    cp.drained.add('web-2');
    await two;
    // nobody waits: the questions stop
    const asked = cp.questions.length;
    await sleep(50);
    expect(cp.questions.length).toBe(asked);
    watch.forget('web-1');
    expect(watch.drained('web-1')).toBe(false);
  });

  it('gives up at `until` when the edges never finish', async () => {
    const cp = fakeControlPlane();
    const watch = new EdgeDrainWatch(cp.ask, closing.signal, undefined, 10);
    const started = Date.now();
    await watch.until('web-1', started + 80);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(watch.drained('web-1')).toBe(false);
  });

  it('keeps waiting through a control plane outage, reporting it once and its end once', async () => {
    const cp = fakeControlPlane();
    cp.down = true;
    const failures: string[] = [];
    const watch = new EdgeDrainWatch(cp.ask, closing.signal, (error, recovered) => failures.push(recovered ? 'recovered' : (error as Error).message), 10);
    const waiting = watch.until('web-1', Date.now() + 10_000);
    await eventually(() => cp.questions.length > 2);
    expect(failures).toEqual(['connect ECONNREFUSED']);
    cp.down = false;
    cp.drained.add('web-1');
    await waiting;
    expect(failures).toEqual(['connect ECONNREFUSED', 'recovered']);
  });

  it('lets every wait go when the agent closes', async () => {
    const cp = fakeControlPlane();
    const agentClosing = new AbortController();
    const watch = new EdgeDrainWatch(cp.ask, agentClosing.signal, undefined, 10);
    const waiting = watch.until('web-1', Date.now() + 10_000);
    agentClosing.abort();
    await waiting;
    expect(watch.drained('web-1')).toBe(false);
    // and a wait asked for afterwards returns at once
    await watch.until('web-2', Date.now() + 10_000);
  });
});
