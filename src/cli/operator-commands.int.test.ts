// The operator commands (status, explain, hosts, secrets, logs) through main(), against a real
// control plane found through its data directory, with hosts that report over HTTP.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../api/control-plane.fixture.js';
import { startFakeAgent, type FakeAgent } from '../api/fake-agent.fixture.js';
import { runBerth } from './run-cli.fixture.js';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const SECRET = 'cli-s3cret-value-91b2';

describe('operator commands', () => {
  let cp: TestControlPlane;
  let box: FakeAgent;
  let spare: FakeAgent;

  /** Runs `berth <args> --data <cp>`; returns the exit code and what it printed. */
  async function berth(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const { code, stdout, stderr } = await runBerth(...args, '--data', cp.dataDir);
    return { code, out: stdout, err: stderr };
  }

  beforeAll(async () => {
    cp = await startTestControlPlane();
    box = await startFakeAgent(cp, 'box-1', { labels: { zone: 'a' } });
    spare = await startFakeAgent(cp, 'spare');
    await cp.createService('web', { run: 'node server.js', http: { host: 'web.localhost' }, resources: { memory: '256Mi', cpu: 0.25 } }, DIGEST);
    await cp.place('web', 'web-1', box.hostId);
    box.logs.set('web-1', ['listening on :4000', 'GET / 200']);
    await box.report([{ id: 'web-1', state: 'ready', restarts: 0, since: Date.now(), port: 4000 }]);
    await spare.report([]);
    await writeFile(join(cp.dataDir, 'edge-url'), 'http://127.0.0.1:8080\n');
  });
  afterAll(async () => {
    box?.close();
    spare?.close();
    await cp?.close();
  });

  it('status prints the chain per service, and --json the URL through the edge', async () => {
    const text = await berth('status');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/SERVICE\s+DESIRED\s+PLACED\s+RUNNING\s+READY\s+ROUTED\s+RELEASE\s+SCALE/);
    expect(text.out).toMatch(/web\s+1\s+1\s+1\s+1\s+1\s+-\s+fixed 1/);
    const json = await berth('status', 'web', '--json');
    expect(JSON.parse(json.out)).toMatchObject({ name: 'web', desired: 1, ready: 1, routed: 1, url: 'http://web.localhost:8080/' });
    const missing = await berth('status', 'nope');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/service nope does not exist/);
  });

  it('explain names the first broken link on one screen', async () => {
    await box.report([{ id: 'web-1', state: 'exited', restarts: 0, since: Date.now(), lastExit: { code: 137, signal: null, oom: false, at: Date.now() } }]);
    const e = await berth('explain', 'web');
    expect(e.code).toBe(0);
    expect(e.out).toContain('NO  running');
    expect(e.out).toContain('first broken link: running (exited)');
    expect(e.out).toContain('exit code 137');
    expect(e.out).toContain('| GET / 200');
    expect(e.out.split('\n').length).toBeLessThan(40);
    const json = JSON.parse((await berth('explain', 'web', '--json')).out) as { broken: { link: string } };
    expect(json.broken.link).toBe('running');
    await box.report([{ id: 'web-1', state: 'ready', restarts: 0, since: Date.now(), port: 4000 }]);
  });

  it('logs prints lines with an instance prefix', async () => {
    const logs = await berth('logs', 'web', '--tail', '1');
    expect(logs).toMatchObject({ code: 0, out: 'web-1 | GET / 200\n' });
    const json = await berth('logs', 'web', '--json');
    expect(json.out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ instance: 'web-1', line: 'listening on :4000' }, { instance: 'web-1', line: 'GET / 200' }]);
    expect((await berth('logs', 'web', '--since', 'yesterday')).err).toMatch(/--since: "yesterday" is not a duration/);
  });

  it('hosts lists, cordons, uncordons, drains detached and decommissions', async () => {
    const list = await berth('hosts');
    expect(list.out).toMatch(/HOST\s+ID\s+STATE\s+REGION\/LABELS\s+MEMORY\s+CPU\s+INSTANCES\s+HEARTBEAT\s+MEMORY LIMITS/);
    expect(list.out).toMatch(/box-1\s+\S+\s+ready\s+default zone=a\s+256Mi\/7Gi\s+250m\/4000m\s+1\s+\d+s ago\s+cgroup-v2/);
    expect((await berth('hosts', 'cordon', 'spare')).out).toMatch(/spare: cordoned/);
    expect((await berth('hosts', 'uncordon', 'spare', '--json')).out).toContain('"state": "ready"');
    const drain = await berth('hosts', 'drain', 'spare', '--deadline', '5m', '--max-parallel', '2', '--detach');
    expect(drain.out).toMatch(/spare: draining 0 instances, 2 at a time, deadline/);
    expect((await berth('hosts', 'drain', 'spare', '--max-parallel', 'many')).err).toMatch(/--max-parallel: "many" is not a whole number/);
    const refused = await berth('hosts', 'decommission', 'box-1');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/drain it first/);
    expect((await berth('hosts', 'decommission', 'spare')).out).toMatch(/spare: decommissioned; its agent's credential is revoked/);
    const token = await berth('hosts', 'join-token', '--ttl', '10m', '--json');
    expect(JSON.parse(token.out)).toMatchObject({ token: expect.stringMatching(/^berth_join_/), url: cp.url });
  });

  it('secrets set, list and rm, never printing a value', async () => {
    const file = join(cp.dataDir, 'app.env');
    await writeFile(file, `# comment\nexport DB_URL="postgres://db/app"\n`);
    vi.stubEnv('API_KEY', SECRET);
    const set = await berth('secrets', 'set', 'web', 'API_KEY', '--from-file', file, '--detach').finally(() => vi.unstubAllEnvs());
    expect(set.code).toBe(0);
    expect(set.out).toBe('web: set API_KEY, DB_URL; rolling out as release 2\n');
    expect(await cp.vault.values('default', ['API_KEY', 'DB_URL'], 'web')).toEqual({ API_KEY: SECRET, DB_URL: 'postgres://db/app' });
    const list = await berth('secrets', 'list', 'web');
    expect(list.out).toMatch(/NAME\s+VERSION\s+UPDATED\s+FROM\nAPI_KEY\s+v1\s+\S+ \(\d+s ago\)\s+secrets set\nDB_URL\s+v1/);
    const unset = await berth('secrets', 'set', 'web', 'TOKEN');
    expect(unset).toMatchObject({ code: 1, out: '' });
    expect(unset.err).toBe('berth: secret 1: the environment variable TOKEN is not set; export it first (in bash: read -rs TOKEN && export TOKEN) or give a file with --from-file\n');
    const json = await berth('secrets', 'list', 'web', '--json');
    expect(JSON.parse(json.out).secrets.map((s: { name: string }) => s.name)).toEqual(['API_KEY', 'DB_URL']);
    const pair = await berth('secrets', 'set', 'web', `TOKEN=${SECRET}`, '--detach');
    expect(pair.out).toBe('web: set TOKEN; rolling out as release 3\n');
    const bad = await berth('secrets', 'set', 'web', `API-KEY=${SECRET}`);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/"API-KEY" is not an environment variable name/);
    const rmd = await berth('secrets', 'rm', 'web', 'DB_URL', '--detach', '--json');
    expect(JSON.parse(rmd.out)).toMatchObject({ service: 'web', changed: ['DB_URL'], release: 4 });
    for (const output of [set, list, unset, json, pair, bad, rmd]) expect(output.out + output.err).not.toContain(SECRET);
  });
});
