// `berth logs` on two control planes sharing one real Postgres (BERTH_TEST_DATABASE_URL): the
// agent long-polls replica B for log requests and a reader asks replica A, which forwards the
// read to B (log_pollers says B holds the poll). Skipped without the variable, as the other
// Postgres suites are.
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { BerthClient } from '../client/berth-client.js';
import { startTestReplicas, until, type TestControlPlane, type TestReplicas } from './control-plane.fixture.js';
import { testMachine } from './fake-agent.fixture.js';
import { LogPollers } from './log-forwarding.js';
import type { LogEntry } from './protocol/log-protocol.js';
import { testServerUrl } from '../store/test-database.fixture.js';


/** An agent that answers log requests from lines the test writes, following them as asked, and notes the cancels it hears. */
interface LogAgent {
  readonly hostId: string;
  /** request id → instance, for the follows open now */
  readonly following: Map<string, string>;
  /** ids of the requests whose reader left, as the agent's poll heard them */
  readonly cancelled: string[];
  /** appends a line to the instance's log and sends it to its follows */
  write(instance: string, line: string): Promise<void>;
  close(): void;
}

type InstanceReport = Parameters<BerthClient['heartbeat']>[0]['instances'][number];

/** `reports`: how the agent reports an instance, where not ready (as one that keeps crashing). */
async function startLogAgent(cp: TestControlPlane, name: string, lines: Record<string, string[]>, reports: Record<string, Partial<InstanceReport>> = {}): Promise<LogAgent> {
  const { token } = await cp.admin.createJoinToken();
  const enrolled = await new BerthClient({ url: cp.url, token }).enroll({ name, address: '127.0.0.1', machine: testMachine });
  const client = new BerthClient({ url: cp.url, token: enrolled.token });
  const instances = Object.keys(lines).map((id): InstanceReport => ({ id, state: 'ready', port: 40_001, restarts: 0, since: Date.now(), ...reports[id] }));
  await client.heartbeat({ usage: { memory: { total: 8 * 2 ** 30, used: 2 ** 30 }, cpu: { cores: 4, millicores: 100 } }, instances, agent: { version: 'test', memoryEnforcement: 'cgroup-v2' } });
  const following = new Map<string, string>();
  const cancelled: string[] = [];
  const stop = new AbortController();
  void (async () => {
    while (!stop.signal.aborted) {
      try {
        const polled = await client.logRequests({ wait: 1_000, signal: stop.signal });
        for (const id of polled.cancelled) {
          cancelled.push(id);
          following.delete(id);
        }
        for (const r of polled.requests) {
          const log = lines[r.instance];
          if (log === undefined) {
            await client.sendLogBatch(r.id, { lines: [], error: `instance ${r.instance} is not on this host` });
            continue;
          }
          const more = await client.sendLogBatch(r.id, { lines: r.tail === 0 ? [] : log.slice(-r.tail), done: !r.follow });
          if (r.follow && more) following.set(r.id, r.instance);
        }
      } catch {
        if (stop.signal.aborted) return;
        await sleep(100);
      }
    }
  })();
  return {
    hostId: enrolled.hostId,
    following,
    cancelled,
    async write(instance, line) {
      (lines[instance] ??= []).push(line);
      for (const [id, followed] of following) {
        if (followed === instance && !(await client.sendLogBatch(id, { lines: [line] }))) following.delete(id);
      }
    },
    close: () => stop.abort(),
  };
}

/** A port nothing listens on: a replica that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const collect = async (cp: TestControlPlane, options: Parameters<TestControlPlane['admin']['logs']>[1]): Promise<LogEntry[]> => {
  const out: LogEntry[] = [];
  for await (const entry of cp.admin.logs('web', options)) out.push(entry);
  return out;
};

if (testServerUrl) {
  describe('logs across two replicas', () => {
    let replicas: TestReplicas;
    let a: TestControlPlane;
    let b: TestControlPlane;
    let agentOnB: LogAgent;

    beforeAll(async () => {
      replicas = await startTestReplicas();
      ({ a, b } = replicas);
      await a.createService('web', { run: 'node server.js' }, 'sha256:web');
      await a.createService('crashy', { run: 'node crash.js' }, 'sha256:crashy');
      const now = Date.now();
      agentOnB = await startLogAgent(
        b,
        'box-1',
        { 'web-1': ['one', 'two', 'three'], 'crashy-1': ['starting', 'Error: DATABASE_URL is not set'] },
        { 'crashy-1': { state: 'restarting', restarts: 4, since: now, lastExit: { code: 1, signal: null, oom: false, at: now }, message: 'restarting in 8s' } },
      );
      await a.place('web', 'web-1', agentOnB.hostId);
      await a.place('crashy', 'crashy-1', agentOnB.hostId);
      // B noted the poll, and A has the heartbeat B took (a follow reads the instances their agent reports)
      await until('B noted in log_pollers', async () => {
        const rows = await a.store.driver.query<{ replica_url: string }>('SELECT replica_url FROM log_pollers WHERE host_id = $1', [agentOnB.hostId]);
        return rows[0]?.replica_url === b.advertiseUrl || undefined;
      });
      await until("A's fleet has web-1", () => a.fleet.host(agentOnB.hostId)?.instances.some((i) => i.id === 'web-1') || undefined);
    });
    afterAll(async () => {
      agentOnB?.close();
      await replicas?.close();
    });

    it('a reader on A gets the tail of an instance whose agent polls B', async () => {
      expect(a.advertiseUrl).toBe(a.url);
      expect(await collect(a, { tail: 2 })).toEqual([
        { instance: 'web-1', line: 'two' },
        { instance: 'web-1', line: 'three' },
      ]);
      expect(await collect(a, { tail: 1, since: '10m', instance: 'web-1' })).toEqual([{ instance: 'web-1', line: 'three' }]);
    });

    it('a follow on A streams a line written later, and ends when the reader leaves: the agent hears the cancel', async () => {
      const stop = new AbortController();
      const seen: LogEntry[] = [];
      const following = (async () => {
        for await (const entry of a.admin.logs('web', { tail: 0, follow: true, signal: stop.signal })) seen.push(entry);
      })();
      const [id] = await until('the agent to hold the follow', () => (agentOnB.following.size > 0 ? [...agentOnB.following.keys()] : undefined));
      await agentOnB.write('web-1', 'written later');
      await until('the later line on A', () => seen.some((e) => 'line' in e && e.line === 'written later') || undefined);
      stop.abort();
      await following;
      await until('the agent to hear the cancel', () => agentOnB.cancelled.includes(id ?? '') || undefined);
      expect(seen).toEqual([{ instance: 'web-1', line: 'written later' }]);
    });

    it('berth explain on A shows the last lines of a crash-looping instance whose agent polls B', async () => {
      const e = await a.admin.explain('crashy');
      expect(e.broken).toMatchObject({ link: 'running', reason: 'crash-loop', instance: 'crashy-1' });
      expect(e.broken?.logs).toEqual(['starting', 'Error: DATABASE_URL is not set']);
    });

    it('a reader on B, which the agent polls, reads there as before', async () => {
      expect((await collect(b, { tail: 100 })).slice(0, 3)).toEqual(['one', 'two', 'three'].map((line) => ({ instance: 'web-1', line })));
    });

    it('a poller that cannot be reached is an error entry naming its URL and the host', async () => {
      const gone = `http://127.0.0.1:${await closedPort()}`;
      await a.place('web', 'web-2', 'box-gone');
      await a.store.driver.query('INSERT INTO log_pollers (host_id, replica_url, polled_at) VALUES ($1, $2, now())', ['box-gone', gone]);
      const entries = await collect(a, { instance: 'web-2' });
      expect(entries).toEqual([{ instance: 'web-2', error: expect.stringContaining(gone) }]);
      const [entry] = entries;
      expect(entry && 'error' in entry ? entry.error : '').toContain('host box-gone');
      expect(JSON.stringify(entries)).not.toContain(a.adminToken);
    });

    it('an agent polling another replica that advertises this one\'s URL: the reader is told to give each replica its own --advertise, at once', async () => {
      await a.place('web', 'web-4', 'box-twin');
      await a.store.driver.query(`INSERT INTO log_pollers (host_id, replica_url, replica_id, polled_at) VALUES ($1, $2, 'a-replica-on-another-machine', now())`, ['box-twin', a.advertiseUrl]);
      const started = Date.now();
      const entries = await collect(a, { instance: 'web-4' });
      expect(entries).toEqual([{ instance: 'web-4', error: expect.stringContaining(`advertises the same URL as this one (${a.advertiseUrl})`) }]);
      expect(JSON.stringify(entries)).toContain('--advertise');
      expect(Date.now() - started).toBeLessThan(4_000); // not the 5 s wait for an agent that never comes
    });

    it('a read forwarded for another replica, reaching one its agent does not poll (a URL that leads to two), says so at once; where the agent polls, it is read', async () => {
      const forwardTo = async (cp: TestControlPlane, meantFor: string, instance: string): Promise<unknown> => {
        const response = await fetch(`${cp.url}/v1/services/web/logs?instance=${instance}`, { headers: { authorization: `Bearer ${cp.adminToken}`, 'x-berth-forwarded': meantFor } });
        return JSON.parse((await response.text()).trim().split('\n').at(-1)!);
      };
      await a.place('web', 'web-5', 'box-elsewhere');
      const started = Date.now();
      expect(await forwardTo(a, 'the-replica-the-note-named', 'web-5')).toEqual({
        instance: 'web-5',
        error: expect.stringMatching(new RegExp(`forwarded to the control-plane replica its agent polls, reached another one \\(it advertises ${a.advertiseUrl}\\).*--advertise`)),
      });
      expect(Date.now() - started).toBeLessThan(4_000); // not the 5 s wait for an agent that never comes
      // B holds box-1's poll: a read meant for another replica is still answered there
      expect(await forwardTo(b, 'the-replica-the-note-named', 'web-1')).toEqual({ instance: 'web-1', line: 'written later' }); // its last line, from the follow above
    });

    it('tells a restart from a twin: a note this replica wrote before it restarted is its own, one another process wrote since is a clash', async () => {
      const url = 'http://replica.test:7070';
      const before = new LogPollers(a.store.driver, () => url);
      await before.polledHere('box-restart');
      await sleep(50);
      const after = new LogPollers(a.store.driver, () => url); // the same replica, restarted
      expect(await after.elsewhere('box-restart')).toBeUndefined(); // read here, as before ids
      expect(await after.forwardedHere('box-restart', before.id)).toBe(true);
      const twin = new LogPollers(a.store.driver, () => url); // another process on the same URL
      await twin.polledHere('box-restart');
      await expect(after.elsewhere('box-restart')).rejects.toThrow(/advertises the same URL as this one/);
      expect(await after.forwardedHere('box-restart', twin.id)).toBe(false);
    });

    it('forwards, unnamed, when a replica before migration 8 took the agent over (it rewrites the URL and leaves the id)', async () => {
      const pollers = new LogPollers(a.store.driver, () => 'http://new.test:7070');
      await pollers.polledHere('box-upgrade');
      // what the old NOTE does: it knows no replica_id column
      await a.store.driver.query(`UPDATE log_pollers SET replica_url = 'http://old.test:7070', polled_at = now() WHERE host_id = 'box-upgrade'`);
      expect(await pollers.elsewhere('box-upgrade')).toEqual({ url: 'http://old.test:7070', id: '' });
    });

    it('a stale poller is passed over, and a forwarded read is not forwarded again: both wait on the local relay, as without replicas', async () => {
      await a.place('web', 'web-3', 'box-stale');
      await a.store.driver.query(`INSERT INTO log_pollers (host_id, replica_url, polled_at) VALUES ($1, $2, now() - interval '2 minutes')`, ['box-stale', b.advertiseUrl]);
      const forwardedToA = async (): Promise<string> => {
        const response = await fetch(`${a.url}/v1/services/web/logs?instance=web-1`, { headers: { authorization: `Bearer ${a.adminToken}`, 'x-berth-forwarded': '1' } });
        return response.text();
      };
      const [stale, forwarded] = await Promise.all([collect(a, { instance: 'web-3' }), forwardedToA()]);
      expect(stale).toEqual([{ instance: 'web-3', error: expect.stringMatching(/^the agent of host box-stale did not answer for logs within/) }]);
      expect(JSON.parse(forwarded)).toEqual({ instance: 'web-1', error: expect.stringMatching(new RegExp(`^the agent of host ${agentOnB.hostId} did not answer for logs within`)) });
    }, 15_000);
  });
} else {
  describe('logs across two replicas', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
