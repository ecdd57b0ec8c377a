// `berth server` as its user meets it when the API cannot listen: one line naming --listen and
// the fix, exit 1, and the database closed again.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiListenError } from '../api/serve-api.js';
import { openEventStore } from '../store/open-store.js';
import { BERTH_SERVER, BERTH_UP, listenFailure } from './listen-failure.js';
import { canListen, expectCleanFailure, holdPort, runBerth } from './run-cli.fixture.js';

describe('berth server', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-server-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names --listen when its port is in use: one line, exit 1, the database closed again, and the control loops never led', async () => {
    const data = join(dir, 'data');
    const held = await holdPort();
    try {
      const run = await runBerth('server', '--data', data, '--listen', `127.0.0.1:${held.port}`);
      expectCleanFailure(run, `--listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`);
      // nothing logged: no "control loops: leading" before the error
      expect(run.stdout).toBe('');
    } finally {
      await held.close();
    }
    // the embedded database was closed: it opens again in this process
    const store = await openEventStore({ data: join(data, 'db') });
    await store.close();
  });

  it('names --listen for a host that does not resolve or an address this machine lacks, with 0.0.0.0 for every address', async () => {
    const data = join(dir, 'data');
    expectCleanFailure(
      await runBerth('server', '--data', data, '--listen', 'api.invalid:7070'),
      '--listen api.invalid:7070: the host "api.invalid" does not resolve; write an address of this machine, or 0.0.0.0:7070 for every address',
    );
    expectCleanFailure(
      await runBerth('server', '--data', data, '--listen', '203.0.113.7:7070'),
      '--listen 203.0.113.7:7070: this machine has no address 203.0.113.7; write one of its addresses, or 0.0.0.0:7070 for every address',
    );
  });

  it('names the command to run as root for a port below 1024 (EACCES; a test run as root cannot provoke it)', () => {
    const denied = new ApiListenError({ host: '0.0.0.0', port: 80 }, Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' }));
    expect(listenFailure('--listen', '0.0.0.0:80', denied, BERTH_SERVER).message).toBe(
      '--listen 0.0.0.0:80: this user may not listen on port 80 (below 1024); pick a port above 1023, or run berth server as root or with the CAP_NET_BIND_SERVICE capability',
    );
    expect(listenFailure('--edge-listen', '0.0.0.0:80', denied, BERTH_UP).message).toContain('or run berth up as root');
  });
});
