// `berth up` when one of its listeners cannot bind (the API, the edge, the edge's metrics): one
// line naming that flag and the fix, exit 1, and nothing left behind: no listener, no agent lock,
// no edge-url file, the database closed.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../agent/port-allocator.js';
import { openEventStore } from '../store/open-store.js';
import { canListen, expectCleanFailure, holdPort, runBerth, type CliRun } from './run-cli.fixture.js';

describe('berth up, a listener that cannot bind', () => {
  let dir: string;
  let data: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-up-listen-'));
    data = join(dir, 'data');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs `berth up` on fixed free ports (the flags in `busy` override them) and checks they are free again after. */
  async function upWith(busy: Record<string, string>): Promise<CliRun> {
    const ports = { '--listen': await freePort(), '--edge-listen': await freePort(), '--edge-metrics-listen': await freePort() };
    const flags = Object.entries(ports).flatMap(([flag, port]) => [flag, busy[flag] ?? `127.0.0.1:${port}`]);
    const run = await runBerth('up', '--data', data, ...flags);
    for (const [flag, port] of Object.entries(ports)) {
      if (busy[flag] === undefined) expect(await canListen(port), `${flag} 127.0.0.1:${port} still listening`).toBe(true);
    }
    // the local agent let go of its data directory, the edge's URL is gone, the database opens again
    expect(existsSync(join(data, 'agent', 'agent.lock'))).toBe(false);
    expect(existsSync(join(data, 'edge-url'))).toBe(false);
    const store = await openEventStore({ data: join(data, 'db') });
    await store.close();
    return run;
  }

  it('names --listen (the API) when its port is in use', async () => {
    const held = await holdPort();
    try {
      expectCleanFailure(await upWith({ '--listen': `127.0.0.1:${held.port}` }), `--listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`);
    } finally {
      await held.close();
    }
  });

  it('names --listen for a host that does not resolve, with 0.0.0.0 for every address (:7070 is 127.0.0.1 here)', async () => {
    expectCleanFailure(
      await upWith({ '--listen': 'api.invalid:7070' }),
      '--listen api.invalid:7070: the host "api.invalid" does not resolve; write an address of this machine, or 0.0.0.0:7070 for every address',
    );
  });

  it('names --edge-listen when its port is in use, after stopping the agent it had started', async () => {
    const held = await holdPort();
    try {
      expectCleanFailure(await upWith({ '--edge-listen': `127.0.0.1:${held.port}` }), `--edge-listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`);
    } finally {
      await held.close();
    }
  });

  it('names --edge-metrics-listen when its port is in use, and for a value that is no address', async () => {
    const held = await holdPort();
    try {
      expectCleanFailure(
        await upWith({ '--edge-metrics-listen': `127.0.0.1:${held.port}` }),
        `--edge-metrics-listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`,
      );
    } finally {
      await held.close();
    }
    const run = await runBerth('up', '--data', join(dir, 'unused'), '--edge-metrics-listen', 'metrics');
    expectCleanFailure(run, '--edge-metrics-listen: "metrics" is not an address to listen on; write host:port, e.g. 127.0.0.1:7070');
    expect(existsSync(join(dir, 'unused'))).toBe(false);
  });
});
