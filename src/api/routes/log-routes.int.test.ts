// Logs and secrets end to end with a real agent and the process driver: the control plane reads
// instance logs through the agent's log-request poll (tail and follow, merged with an instance
// prefix, since applied), and a secret set through the API reaches the app while appearing in no listing, event,
// server log or instance log.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/agent.js';
import { ProcessDriver } from '../../agent/drivers/process/process-driver.js';
import { packReleaseArchive } from '../../client/release-archive.js';
import { startTestControlPlane, type TestControlPlane } from '../control-plane.fixture.js';
import type { LogEntry } from '../protocol/log-protocol.js';

const SECRET = 'pa55-do-not-print-7f3a9c';

const APP = `import { createServer } from 'node:http';
console.log('boot ' + process.env.BERTH_INSTANCE);
const server = createServer((req, res) => {
  if (req.url === '/healthz') return res.end('ok');
  if (req.url === '/secret') return res.end(process.env.API_KEY ?? '(unset)');
  console.log('request ' + req.url);
  res.end('hi');
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('logs and secrets through a real agent', () => {
  let appDir: string;
  let agentDir: string;
  let cp: TestControlPlane;
  let driver: ProcessDriver;
  let agent: Agent;
  const serverLog: string[] = [];

  /** The port of the ready instance of `release`. */
  const readyPort = (release: number): Promise<number> =>
    eventually(`a ready instance of release ${release}`, async () => {
      const ready = driver.list().find((s) => s.state === 'ready' && s.release === `v${release}`);
      const status = await cp.admin.serviceStatus('app');
      return ready !== undefined && status.release === release && status.rollout === null ? ready.port : undefined;
    });
  const collect = async (options: Parameters<TestControlPlane['admin']['logs']>[1]): Promise<LogEntry[]> => {
    const out: LogEntry[] = [];
    for await (const entry of cp.admin.logs('app', options)) out.push(entry);
    return out;
  };

  beforeAll(async () => {
    appDir = await mkdtemp(join(tmpdir(), 'berth-logapp-'));
    agentDir = await mkdtemp(join(tmpdir(), 'berth-logagent-'));
    await writeFile(join(appDir, 'server.mjs'), APP);
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (serverLog.push(chunk.toString()), done()) });
    cp = await startTestControlPlane({ log: pino({ level: 'debug' }, sink), controlLoops: { resyncIntervalMs: 500 } });
    const { digest, archive } = await packReleaseArchive(appDir);
    await cp.admin.putArtifact(digest, archive);
    await cp.createService('app', { run: 'node server.mjs', http: { host: 'app.localhost' }, health: { ready: { type: 'http', path: '/healthz', interval: '200ms', timeout: '100ms' } }, stop: { grace: '2s' }, deploy: { minHealthy: '0s' } }, digest);
    await cp.store.append('service-app', [{ type: 'RolloutStarted', data: { release: 1, previous: null } }], { expectedVersion: 'any' });
    driver = await ProcessDriver.open({ dataDir: agentDir, memoryEnforcement: 'none' });
    agent = await Agent.start({
      controlPlane: cp.url,
      joinToken: (await cp.admin.createJoinToken()).token,
      dataDir: agentDir,
      driver,
      log: pino({ level: 'silent' }),
      heartbeatInterval: 300,
      resyncInterval: 300,
      pollWait: 2_000,
      minStopDelay: 0,
    });
  }, 60_000);

  afterAll(async () => {
    await agent?.close();
    for (const s of driver?.list() ?? []) await driver.stop(s.id, 500).catch(() => undefined);
    await driver?.close();
    await cp?.close();
    await rm(appDir, { recursive: true, force: true });
    await rm(agentDir, { recursive: true, force: true });
  });

  it('tails the logs of every instance with its id', async () => {
    await readyPort(1);
    const entries = await eventually('the boot line', async () => {
      const got = await collect({ tail: 10 });
      return got.some((e) => 'line' in e && e.line.startsWith('boot ')) ? got : undefined;
    });
    const [first] = entries;
    expect(first && 'line' in first ? first.line : '').toBe(`boot ${first?.instance}`);
    await expect(collect({ instance: 'nope' })).rejects.toMatchObject({ status: 404 });
    await expect(collect({ tail: -1 })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/query\.tail/) });
  }, 60_000);

  it('follows new lines until the reader leaves', async () => {
    const port = await readyPort(1);
    const stop = new AbortController();
    const seen: LogEntry[] = [];
    const following = (async () => {
      for await (const entry of cp.admin.logs('app', { tail: 0, follow: true, signal: stop.signal })) seen.push(entry);
    })();
    await sleep(500);
    await fetch(`http://127.0.0.1:${port}/followed-1`).then((r) => r.text());
    await eventually('the followed line', async () => seen.some((e) => 'line' in e && e.line === 'request /followed-1'));
    stop.abort();
    await following;
  }, 60_000);

  it('applies since: the tail keeps only what was written since, to about a second', async () => {
    const port = await readyPort(1);
    await sleep(3_000); // size checks (every second) mark what was written before
    await fetch(`http://127.0.0.1:${port}/since-probe`).then((r) => r.text());
    const entries = await eventually('the probe line', async () => {
      const got = await collect({ tail: 100, since: '2s' });
      return got.some((e) => 'line' in e && e.line === 'request /since-probe') ? got : undefined;
    });
    expect(entries.filter((e) => 'line' in e && e.line.startsWith('boot '))).toEqual([]);
    expect(entries.filter((e) => 'line' in e && e.line === 'request /followed-1')).toEqual([]);
    expect((await collect({ tail: 100 })).some((e) => 'line' in e && e.line.startsWith('boot '))).toBe(true);
  }, 60_000);

  it('follows instances that start after the follow began, each line once, and goes on when one stops', async () => {
    await readyPort(1);
    const before = new Set(driver.list().map((s) => s.id));
    const stop = new AbortController();
    const seen: LogEntry[] = [];
    const following = (async () => {
      for await (const entry of cp.admin.logs('app', { tail: 0, follow: true, signal: stop.signal })) seen.push(entry);
    })();
    const lines = (text: string): LogEntry[] => seen.filter((e) => 'line' in e && e.line === text);
    try {
      await sleep(500);

      await cp.admin.setReplicas('app', 2);
      const added = await eventually('an instance started by the scale-out', async () => driver.list().find((s) => !before.has(s.id)));
      await eventually(`the boot line of ${added.id} on the follow`, async () => lines(`boot ${added.id}`).length > 0);

      await cp.admin.setReplicas('app', 1);
      const left = await eventually('one instance left after the scale-in', async () => {
        const ready = driver.list().filter((s) => s.state === 'ready');
        return ready.length === 1 && driver.list().length === before.size + 1 ? ready[0] : undefined;
      });
      await fetch(`http://127.0.0.1:${left.port}/after-scale-in`).then((r) => r.text());
      await eventually('a line written after the scale-in', async () => lines('request /after-scale-in').length > 0);
      await sleep(2_500); // a few more looks for new instances, which must not follow one twice
      stop.abort();
      await following;

      expect(lines(`boot ${added.id}`)).toEqual([{ instance: added.id, line: `boot ${added.id}` }]);
      expect(lines('request /after-scale-in')).toEqual([{ instance: left.id, line: 'request /after-scale-in' }]);
      expect(seen.filter((e) => 'error' in e)).toEqual([]);
    } finally {
      stop.abort(); // a failed wait leaves no follow open
    }
  }, 60_000);

  it('delivers a set secret to the app, rolling the service, and never shows its value', async () => {
    const changed = await cp.admin.setSecrets('app', { API_KEY: SECRET });
    expect(changed).toEqual({ service: 'app', changed: ['API_KEY'], release: 2, rolloutStarted: true });
    const port = await readyPort(2);
    expect(await (await fetch(`http://127.0.0.1:${port}/secret`)).text()).toBe(SECRET);

    const list = await cp.admin.secrets('app');
    expect(list.secrets).toEqual([{ name: 'API_KEY', version: 1, updatedAt: expect.any(String), declared: false }]);
    const events = await cp.store.driver.query<{ type: string; data: unknown }>('SELECT type, data FROM events');
    expect(events.filter((e) => e.type === 'SecretSet').map((e) => e.data)).toEqual([{ name: 'app/API_KEY', version: 1 }]);
    const logs = await collect({ tail: 1000 });
    const releases = await cp.store.driver.query('SELECT * FROM releases');
    for (const text of [JSON.stringify(list), JSON.stringify(events), JSON.stringify(logs), JSON.stringify(releases), serverLog.join('')]) expect(text).not.toContain(SECRET);
  }, 90_000);

  it('removes a secret, rolling the service without it', async () => {
    await expect(cp.admin.removeSecret('app', 'NOPE')).rejects.toMatchObject({ status: 404 });
    const changed = await cp.admin.removeSecret('app', 'API_KEY');
    expect(changed).toMatchObject({ release: 3, rolloutStarted: true });
    const port = await readyPort(3);
    expect(await (await fetch(`http://127.0.0.1:${port}/secret`)).text()).toBe('(unset)');
    expect((await cp.admin.secrets('app')).secrets).toEqual([]);
  }, 90_000);

  it('refuses bad secret input without echoing a value', async () => {
    const response = await fetch(`${cp.url}/v1/services/app/secrets`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cp.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ secrets: { 'bad-name': SECRET, OK: 12345678 } }),
    });
    const text = await response.text();
    expect(response.status).toBe(400);
    expect(text).toContain('bad-name');
    expect(text).toContain('secrets.OK: not a string');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('12345678');
  });

  // last: it deletes the service the others use
  it('ends a follow once its service is deleted and its instances are gone', async () => {
    const port = await readyPort((await cp.admin.serviceStatus('app')).release ?? 1);
    const seen: LogEntry[] = [];
    let ended = false;
    const following = (async () => {
      for await (const entry of cp.admin.logs('app', { tail: 0, follow: true })) seen.push(entry);
      ended = true;
    })();
    await sleep(500);
    await fetch(`http://127.0.0.1:${port}/before-delete`).then((r) => r.text());
    await eventually('a line before the delete', async () => seen.some((e) => 'line' in e && e.line === 'request /before-delete'));
    await cp.admin.deleteService('app');
    await eventually('the follow to end', async () => ended, 20_000);
    await following;
    expect(seen.filter((e) => 'error' in e)).toEqual([]);
    // it ended because the instances stopped, not because the agent removed them (a minute later)
    expect(driver.list().length).toBeGreaterThan(0);
    expect(driver.list().filter((s) => s.state !== 'stopped' && s.state !== 'exited')).toEqual([]);
  }, 60_000);
});
