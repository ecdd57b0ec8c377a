// `berth server` as its user meets it when the API cannot listen: one line naming --listen and
// the fix, exit 1, and the database closed again; and --advertise, checked before anything starts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { advertisedUrl } from '../api/control-plane.js';
import { ApiListenError } from '../api/serve-api.js';
import { openEventStore } from '../store/open-store.js';
import { BERTH_SERVER, BERTH_UP, listenFailure } from './listen-failure.js';
import { canListen, expectCleanFailure, holdPort, runBerth } from './run-cli.fixture.js';
import { loopbackAdvertiseWarning, parseAdvertiseUrl } from './server.js';

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

  it('advertises the URL it listens at, or on every address this machine\'s name with the port', () => {
    expect(advertisedUrl('http://127.0.0.1:7070', 'cp-1')).toBe('http://127.0.0.1:7070');
    expect(advertisedUrl('http://[::1]:7070', 'cp-1')).toBe('http://[::1]:7070');
    expect(advertisedUrl('http://0.0.0.0:7070', 'cp-1')).toBe('http://cp-1:7070');
    expect(advertisedUrl('http://[::]:40123', 'cp-1')).toBe('http://cp-1:40123');
  });

  it('takes --advertise as an http(s) origin, and names the flag and the fix for anything else', () => {
    expect(parseAdvertiseUrl('http://10.0.0.5:7070')).toBe('http://10.0.0.5:7070');
    expect(parseAdvertiseUrl(' https://cp-1.internal/ ')).toBe('https://cp-1.internal');
    const fix = 'write the http:// or https:// URL other replicas reach this one at, e.g. http://10.0.0.5:7070';
    expect(() => parseAdvertiseUrl('nope')).toThrow(`--advertise: "nope" is not a URL; ${fix}`);
    expect(() => parseAdvertiseUrl('10.0.0.5:7070')).toThrow(`--advertise: "10.0.0.5:7070" is not a URL; ${fix}`);
    expect(() => parseAdvertiseUrl('cp-1:7070')).toThrow(`--advertise: "cp-1:7070" is not an http:// or https:// URL; ${fix}`);
    expect(() => parseAdvertiseUrl('http://cp-1:7070/v1')).toThrow('--advertise: "http://cp-1:7070/v1" has a path, query or fragment; write scheme, host and port only, e.g. http://cp-1:7070');
    expect(() => parseAdvertiseUrl('http://0.0.0.0:7070')).toThrow(`--advertise: "http://0.0.0.0:7070": no other machine reaches 0.0.0.0; ${fix}`);
    // a password is refused without being repeated
    const withPassword = (): string => parseAdvertiseUrl('http://admin:hunter2@cp-1:7070');
    expect(withPassword).toThrow(/^--advertise: the URL carries a user or password; leave them out/);
    expect(withPassword).not.toThrow(/hunter2/);
    // nor when the URL is refused for something else first
    expect(() => parseAdvertiseUrl('ftp://admin:hunter2@cp-1')).toThrow(`--advertise: "ftp://…@cp-1" is not an http:// or https:// URL; ${fix}`);
  });

  it('warns, on Postgres only, that a loopback URL it advertises by default is no use to replicas on other machines', () => {
    const postgres = { database: 'postgres://db.internal/berth' };
    for (const url of ['http://127.0.0.1:7070', 'http://localhost:7070', 'http://[::1]:7070']) {
      expect(loopbackAdvertiseWarning(postgres, url)).toBe(`berth server: other replicas of this database reach this one at ${url} (for berth logs); if any run on another machine, give --advertise the URL they reach it at\n`);
    }
    expect(loopbackAdvertiseWarning(postgres, 'http://10.0.0.5:7070')).toBeUndefined();
    expect(loopbackAdvertiseWarning({}, 'http://127.0.0.1:7070')).toBeUndefined(); // embedded: no other replica
    expect(loopbackAdvertiseWarning({ ...postgres, advertise: 'http://127.0.0.1:7070' }, 'http://127.0.0.1:7070')).toBeUndefined(); // asked for
  });

  it('refuses a bad --advertise before it opens the database: one line, exit 1', async () => {
    const data = join(dir, 'data');
    expectCleanFailure(
      await runBerth('server', '--data', data, '--listen', '127.0.0.1:0', '--advertise', 'nope'),
      '--advertise: "nope" is not a URL; write the http:// or https:// URL other replicas reach this one at, e.g. http://10.0.0.5:7070',
    );
  });
});
