// One box end to end, the operations half (issue 6 item 8), as a new user with the real
// `bin/berth.js`: a secret reaches the app and shows nowhere else (logs, API listings, the
// server's output, the data directories in clear); a second agent joins with its own data
// directory; the first host is drained under continuous load with zero failed requests; the
// second host is drained back and retired, its agent stopped, and Ctrl-C stops the rest.
// Instances of a `berth agent` outlive it by design, so the test empties that host before
// stopping the agent, and kills whatever its driver still records if a step fails first.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostList } from '../api/protocol/host-protocol.js';
import type { ReleaseList } from '../api/protocol/service-protocol.js';
import { BerthUp, bin, until, type BerthResult } from './berth-up.fixture.js';

const HOST = 'hello.localhost';
const ok = (result: BerthResult): string => ('failed' in result ? `exit ${result.code}: ${result.stderr}` : '');
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Every file under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if (readFileSync(path).includes(needle)) found.push(path);
  }
  return found;
}

/** The pids the process driver in `agentData` records for its instances (`instances/<id>/instance.json`). */
function recordedPids(agentData: string): number[] {
  let ids: string[];
  try {
    ids = readdirSync(join(agentData, 'instances'));
  } catch {
    return [];
  }
  return ids.flatMap((id) => {
    try {
      const record = JSON.parse(readFileSync(join(agentData, 'instances', id, 'instance.json'), 'utf8')) as { run?: { pid: number } };
      return record.run ? [record.run.pid] : [];
    } catch {
      return [];
    }
  });
}

describe('berth up, operations end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-ops-'));
  const box = new BerthUp(dir);
  const agentData = join(dir, 'box-2');
  let agent: ChildProcess | undefined;
  let agentLog = '';
  const greeting = `hello-secret-${randomUUID()}`;
  const greetingHash = createHash('sha256').update(greeting).digest('hex');

  const stopAgent = async (): Promise<number | null> => {
    const child = agent;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    return exited;
  };

  const hosts = async () => ((await box.berthJson(['hosts'])) as HostList).hosts;

  beforeAll(() => box.prepare(2), 120_000);

  afterAll(async () => {
    await stopAgent();
    await box.stop();
    // A step that failed early may leave instances on the second host: they outlive its agent.
    for (const pid of recordedPids(agentData).filter(alive)) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        process.kill(pid, 'SIGKILL');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a secret to the app, joins a second agent, drains a host under load without failures, and stops clean', async () => {
    await box.start(['-f', 'berth.yaml', '--log-level', 'info'], box.app);
    expect(box.log).toContain('release 1 is live');
    await until('2 instances answering', async () => ((await box.answering(20, { host: HOST })).size === 2 ? true : undefined));

    // ---- a secret: set once, rolled out, visible to the app ----
    const set = await box.berth(['secrets', 'set', 'hello', `GREETING=${greeting}`]);
    expect(ok(set)).toBe('');
    expect(set.stdout).toMatch(/hello: set GREETING; release 2 live/);
    const greetings = await box.answering(20, { host: HOST, path: '/greeting' });
    expect([...greetings]).toEqual([greetingHash]);

    // ... and absent from logs, API listings, the server's output and the data directory in clear
    const logs = await box.berth(['logs', 'hello']);
    expect(ok(logs)).toBe('');
    expect(logs.stdout).toMatch(/hello v1 listening on/);
    const secrets = await box.berth(['secrets', 'list', 'hello', '--json']);
    expect(secrets.stdout).toContain('"GREETING"');
    const status = await box.berth(['status', '--json']);
    const releases = await box.berth(['releases', 'hello', '--json']);
    const explain = await box.berth(['explain', 'hello', '--json']);
    for (const [what, result] of Object.entries({ set, logs, secrets, status, releases, explain })) {
      expect(ok(result), what).toBe('');
      expect(result.stdout + result.stderr, `berth ${what}`).not.toContain(greeting);
    }
    expect(box.log).not.toContain(greeting);
    // The vault keeps it sealed in the database: no file holds the value itself.
    expect(filesContaining(box.data, greeting)).toEqual([]);

    // ---- a second agent joins with its own data directory ----
    const join_ = (await box.berthJson(['hosts', 'join-token', '--name', 'box-2'])) as { token: string; url: string };
    expect(join_.url).toBe(box.apiUrl);
    agent = spawn(process.execPath, [bin, 'agent', '--join', join_.url, '--data', agentData, '--name', 'box-2', '--log-level', 'warn'], {
      cwd: dir,
      env: { ...process.env, BERTH_JOIN_TOKEN: join_.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    agent.stderr!.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    const [first, second] = await until('two ready hosts', async () => {
      const list = await hosts();
      const one = list.find((h) => h.name === hostname());
      const two = list.find((h) => h.name === 'box-2');
      return list.length === 2 && one?.state === 'ready' && two?.state === 'ready' && two.lastHeartbeat !== null ? [one, two] : undefined;
    });
    expect(agentLog).toContain(`berth agent: host ${second.id}`);
    expect(first.instances).toBe(2);
    expect(second.instances).toBe(0);
    const table = await box.berth(['hosts']);
    expect(table.stdout).toContain('box-2');

    // ---- drain the first host under continuous load: zero failed requests ----
    const drainLoad = box.load(HOST);
    const drained = await box.berth(['hosts', 'drain', first.name]);
    await sleep(1_000);
    await drainLoad.stop();
    expect(ok(drained)).toBe('');
    expect(drained.stdout).toContain(`${first.name}: drained; cordoned with no instances`);
    expect(drainLoad.failures).toEqual([]);
    expect(drainLoad.total()).toBeGreaterThan(50);
    const moved = await box.service('hello');
    const live = moved.instances.filter((i) => i.stopRequestedAt === null);
    expect(live.map((i) => [i.host, i.state])).toEqual([
      [second.id, 'ready'],
      [second.id, 'ready'],
    ]);
    const afterDrain = await hosts();
    expect(afterDrain.find((h) => h.id === first.id)).toMatchObject({ state: 'cordoned', instances: 0 });
    // The new host got the secret from the vault too.
    expect([...(await box.answering(10, { host: HOST, path: '/greeting' }))]).toEqual([greetingHash]);
    expect(filesContaining(agentData, greeting)).toEqual([]);
    const onSecond = live.flatMap((i) => (i.pid === undefined ? [] : [i.pid]));
    expect(onSecond).toHaveLength(2);

    // ---- retire the second host: drain it back, decommission, stop its agent ----
    expect(ok(await box.berth(['hosts', 'uncordon', first.name]))).toBe('');
    const backLoad = box.load(HOST);
    const back = await box.berth(['hosts', 'drain', 'box-2']);
    await backLoad.stop();
    expect(ok(back)).toBe('');
    expect(backLoad.failures).toEqual([]);
    expect(ok(await box.berth(['hosts', 'decommission', 'box-2']))).toBe('');
    expect(await stopAgent()).toBe(0);
    expect(agentLog).toContain('berth agent: stopped');
    for (const pid of onSecond) expect(alive(pid), `instance pid ${pid} on box-2`).toBe(false);
    const releaseList = JSON.parse((await box.berth(['releases', 'hello', '--json'])).stdout) as ReleaseList;
    expect(releaseList.releases.find((r) => r.active)?.version).toBe(2);

    // ---- Ctrl-C stops everything, the instances back on the first host too ----
    const onFirst = (await box.service('hello')).instances.flatMap((i) => (i.pid === undefined ? [] : [i.pid]));
    expect(onFirst).toHaveLength(2);
    expect(await box.stop()).toBe(0);
    expect(box.log).toContain('berth up: stopped');
    expect(box.log).not.toContain(greeting);
    for (const pid of [...onFirst, ...recordedPids(agentData)]) expect(alive(pid), `pid ${pid}`).toBe(false);
  }, 150_000);
});
