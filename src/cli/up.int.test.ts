// One box end to end (issue 6 item 8), as a new user: the real `bin/berth.js` (built first) runs
// `berth up` in a temporary directory; requests go through its edge on 127.0.0.1 only. Scale 1→3,
// kill -9 an instance, deploy v2 under load with zero failed requests, a broken v3 reverted
// without ever serving, rollback to v1, Ctrl-C, and a second `berth up` that restores it all.
// No timing asserts: every wait polls for a state, bounded by a generous deadline.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseList, ServiceInfo } from '../api/protocol/service-protocol.js';
import { BerthUp, berthYaml, until } from './berth-up.fixture.js';

describe('berth up, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-'));
  const box = new BerthUp(dir);
  const { app } = box;
  const berth = (args: string[], cwd = app) => box.berth(args, cwd);
  const berthJson = (args: string[]) => box.berthJson(args);
  const get = (agent?: http.Agent) => box.request({ host: 'hello.localhost', ...(agent ? { agent } : {}) });
  const service = (): Promise<ServiceInfo> => box.service('hello');
  const startUp = (args: string[], cwd: string) => box.start(args, cwd);
  const stopUp = () => box.stop();
  const answering = (n: number) => box.answering(n, { host: 'hello.localhost' });
  const load = () => box.load('hello.localhost');

  beforeAll(() => box.prepare(1), 120_000);

  afterAll(async () => {
    await stopUp();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, scales, heals, deploys without failures, reverts a broken release, rolls back, stops and comes back', async () => {
    // ---- up: deploys the file and routes through the edge ----
    await startUp(['-f', 'berth.yaml'], app);
    expect(box.log).toContain('release 1 is live');
    const first = await until('v1 through the edge', async () => ((await get()).body.startsWith('v1 ') ? true : undefined));
    expect(first).toBe(true);
    // status --json names the URL through this edge
    const status = (await berthJson(['status'])) as { services: { name: string; url: string | null }[] };
    expect(status.services.find((s) => s.name === 'hello')?.url).toBe(`http://hello.localhost:${box.edgePort}/`);

    // ---- scale 1 → 3 by changing replicas in berth.yaml; every instance serves ----
    writeFileSync(join(app, 'berth.yaml'), berthYaml(3));
    const scaled = await berth(['deploy']);
    expect('failed' in scaled ? scaled.stderr : '').toBe('');
    expect(scaled.stdout).toMatch(/release 2 is live \(3\/3 ready\)/);
    await until('3 instances answering', async () => ((await answering(30)).size === 3 ? true : undefined));

    // ---- kill -9 an instance: it is replaced (restarted) and all three serve again ----
    const before = await service();
    const victim = before.instances.find((i) => i.pid !== undefined);
    expect(victim?.pid).toBeDefined();
    process.kill(victim!.pid!, 'SIGKILL');
    await until('the killed instance to be replaced', async () => {
      const now = await service();
      const ready = now.instances.filter((i) => i.state === 'ready' && i.stopRequestedAt === null);
      return ready.length === 3 && ready.every((i) => i.pid !== victim!.pid) ? true : undefined;
    });
    await until('3 instances answering after the kill', async () => ((await answering(30)).size === 3 ? true : undefined));

    // ---- v2 under continuous load: zero failed requests ----
    writeFileSync(join(app, 'version.txt'), 'v2\n');
    const v2Load = load();
    const v2 = await berth(['deploy']);
    await sleep(1_000);
    await v2Load.stop();
    expect('failed' in v2 ? v2.stderr : '').toBe('');
    expect(v2.stdout).toMatch(/release 3 is live/);
    expect(v2Load.failures).toEqual([]);
    expect(v2Load.total()).toBeGreaterThan(50);
    expect(v2Load.bodies.has('v2')).toBe(true);
    expect(await answering(10)).toSatisfy((seen: Set<string>) => [...seen].every((b) => b.startsWith('v2 ')));

    // ---- a broken v3 (failing health) is reverted and never serves ----
    writeFileSync(join(app, 'version.txt'), 'v3-broken\n');
    const v3Load = load();
    const v3 = await berth(['deploy']);
    await v3Load.stop();
    expect('failed' in v3 && v3.code).toBe(1);
    expect(v3.stdout).toMatch(/release 4 was reverted: .*not healthy/);
    expect(v3Load.bodies.has('v3-broken')).toBe(false);
    expect(v3Load.failures).toEqual([]);
    await until('v2 serving after the revert', async () => ([...(await answering(10))].every((b) => b.startsWith('v2 ')) ? true : undefined));

    // ---- rollback to v1: code back, three instances kept ----
    const back = await berth(['rollback', 'hello', '--to', '1']);
    expect('failed' in back ? back.stderr : '').toBe('');
    expect(back.stdout).toMatch(/release 5 is live \(3\/3 ready\)/);
    const afterRollback = await answering(30);
    expect([...afterRollback].every((b) => b.startsWith('v1 '))).toBe(true);
    const releases = (await berthJson(['releases', 'hello'])) as ReleaseList;
    expect(releases.releases.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(releases.releases.find((r) => r.version === 4)?.revertedAt).not.toBeNull();
    const pids = (await service()).instances.flatMap((i) => (i.pid === undefined ? [] : [i.pid]));

    // ---- Ctrl-C stops everything, instances too ----
    expect(await stopUp()).toBe(0);
    expect(box.log).toContain('berth up: stopped');
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();

    // ---- up again on the same data directory (no file): the same service and releases ----
    await startUp([], dir);
    const restored = await until('v1 through the edge after the restart', async () => ((await get()).body.startsWith('v1 ') ? true : undefined), 60_000);
    expect(restored).toBe(true);
    const again = (await berthJson(['releases', 'hello'])) as ReleaseList;
    expect(again.releases.map((r) => [r.version, r.digest])).toEqual(releases.releases.map((r) => [r.version, r.digest]));
    expect(again.releases.find((r) => r.active)?.version).toBe(5);
    await until('3 instances answering after the restart', async () => ((await answering(30)).size === 3 ? true : undefined));
  }, 240_000);
});
