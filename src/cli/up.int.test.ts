// One box end to end (issue 6 item 8), as a new user: the real `bin/berth.js` (built first) runs
// `berth up` in a temporary directory; requests go through its edge on 127.0.0.1 only. Scale 1→3,
// kill -9 an instance, deploy v2 under load with zero failed requests, a broken v3 reverted
// without ever serving, rollback to v1, Ctrl-C, and a second `berth up` that restores it all.
// No timing asserts: every wait polls for a state, bounded by a generous deadline.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReleaseList, ServiceInfo } from '../api/protocol/service-protocol.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const bin = join(root, 'bin/berth.js');

const APP = `import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./version.txt', import.meta.url), 'utf8').trim();
const broken = version.includes('broken');
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(broken ? 500 : 200).end(broken ? 'broken\\n' : 'ok\\n'); return; }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(\`\${version} \${process.env.BERTH_INSTANCE}\\n\`);
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const berthYaml = (replicas: number) => `services:
  hello:
    run: node server.mjs
    resources: { memory: 64Mi, cpu: 0.1 }
    http: { host: hello.localhost }
    health:
      ready: { type: http, path: /healthz, interval: 300ms, timeout: 250ms, failures: 1 }
    replicas: ${replicas}
    deploy: { minHealthy: 1s, healthyDeadline: 8s }
    stop: { grace: 5s }
`;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(200);
  }
}

describe('berth up, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-'));
  const app = join(dir, 'app');
  const data = join(dir, '.berth');
  let edgePort = 0;
  let up: ChildProcess | undefined;
  let upLog = '';

  const berth = (args: string[], cwd = app) =>
    run(process.execPath, [bin, ...args, '--data', data], { cwd, timeout: 90_000 }).catch((error: { code?: number; stdout?: string; stderr?: string }) => ({
      failed: true as const,
      code: error.code,
      stdout: error.stdout ?? '',
      stderr: error.stderr ?? String(error),
    }));

  const get = (keepAlive?: http.Agent): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: edgePort, path: '/', headers: { host: 'hello.localhost' }, agent: keepAlive ?? false, timeout: 10_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
    });

  const service = async (): Promise<ServiceInfo> => JSON.parse(await apiGet('/v1/services/hello')) as ServiceInfo;
  const berthJson = async (args: string[]) => {
    const result = await berth([...args, '--json']);
    if ('failed' in result) throw new Error(`berth ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as unknown;
  };
  const apiGet = async (path: string): Promise<string> => {
    const { readFileSync } = await import('node:fs');
    const url = readFileSync(join(data, 'api-url'), 'utf8').trim();
    const token = readFileSync(join(data, 'admin-token'), 'utf8').trim();
    const response = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.text();
  };

  const startUp = async (args: string[], cwd: string): Promise<void> => {
    upLog = '';
    up = spawn(process.execPath, [bin, 'up', ...args, '--data', data, '--listen', '127.0.0.1:0', '--edge-listen', `127.0.0.1:${edgePort}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    up.stdout!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    up.stderr!.on('data', (chunk: Buffer) => (upLog += chunk.toString()));
    await until('berth up to be up', async () => (upLog.includes('berth is up') ? true : up?.exitCode !== null ? Promise.reject(new Error(upLog)) : undefined), 60_000);
  };

  const stopUp = async (): Promise<number | null> => {
    const child = up;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    return exited;
  };

  /** Distinct instances answering through the edge, over fresh connections. */
  const answering = async (n: number): Promise<Set<string>> => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const { status, body } = await get();
      if (status === 200) seen.add(body.trim());
    }
    return seen;
  };

  /** Continuous requests from 4 clients (2 keep-alive, 2 new connection each) until stopped. */
  const load = () => {
    let running = true;
    const bodies = new Set<string>();
    const failures: string[] = [];
    let total = 0;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const client = async (agent?: http.Agent) => {
      while (running) {
        try {
          const { status, body } = await get(agent);
          total++;
          if (status === 200) bodies.add(body.trim().split(' ')[0]!);
          else failures.push(`${status} ${body.trim()}`);
        } catch (error) {
          total++;
          failures.push((error as Error).message);
        }
        await sleep(10);
      }
    };
    const clients = [client(keepAlive), client(keepAlive), client(), client()];
    return {
      bodies,
      failures,
      total: () => total,
      stop: async () => {
        running = false;
        await Promise.all(clients);
        keepAlive.destroy();
      },
    };
  };

  beforeAll(async () => {
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root }).catch((error: { stdout?: string }) => {
      throw new Error(`npm run build failed:\n${error.stdout ?? String(error)}`);
    });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(app);
    writeFileSync(join(app, 'server.mjs'), APP);
    writeFileSync(join(app, 'version.txt'), 'v1\n');
    writeFileSync(join(app, 'berth.yaml'), berthYaml(1));
    edgePort = await freePort();
  }, 120_000);

  afterAll(async () => {
    await stopUp();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs, scales, heals, deploys without failures, reverts a broken release, rolls back, stops and comes back', async () => {
    // ---- up: deploys the file and routes through the edge ----
    await startUp(['-f', 'berth.yaml'], app);
    expect(upLog).toContain('release 1 is live');
    const first = await until('v1 through the edge', async () => ((await get()).body.startsWith('v1 ') ? true : undefined));
    expect(first).toBe(true);

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
    expect(upLog).toContain('berth up: stopped');
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
