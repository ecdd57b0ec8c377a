// The agent protocol end to end, both sides over real HTTP with the store behind them and the
// process driver running the example app: enroll, heartbeat, assignment, ready, restart and
// adoption, control plane outage, stop, and a stop that waits for the edges' drained reports.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropTestDatabase, startTestControlPlane, type TestControlPlane } from '../api/control-plane.fixture.js';
import type { ReportedInstance } from '../api/observed-fleet.js';
import { BerthClient } from '../client/berth-client.js';
import { packReleaseArchive } from '../client/release-archive.js';
import type { EdgeInstanceState } from '../reconcile/drain-at-edges.js';
import { Agent } from './agent.js';
import { ProcessDriver } from './drivers/process/process-driver.js';

const HELLO = fileURLToPath(new URL('../../examples/hello', import.meta.url));
const log = pino({ level: 'silent' });

/** Polls `probe` until it returns a value; bounded, so a broken agent fails the test instead of hanging it. */
async function eventually<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const get = async (port: number): Promise<string | undefined> => {
  try {
    return await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) })).text();
  } catch {
    return undefined;
  }
};

describe('agent protocol with the process driver', () => {
  let cpDir: string;
  let agentDir: string;
  let cp: TestControlPlane;
  let port: number;
  let driver: ProcessDriver;
  let agent: Agent;
  let joinToken: string;

  const observed = (id: string): ReportedInstance | undefined => cp.fleet.host(agent.hostId)?.instances.find((i) => i.id === id);
  const startAgent = async (withJoinToken: boolean) => {
    driver = await ProcessDriver.open({ dataDir: agentDir, memoryEnforcement: 'none' });
    agent = await Agent.start({
      controlPlane: cp.url,
      ...(withJoinToken ? { joinToken } : {}),
      dataDir: agentDir,
      driver,
      log,
      name: 'test-host',
      labels: { zone: 'a' },
      reservedMemory: 2 ** 30,
      heartbeatInterval: 300,
      resyncInterval: 300,
      pollWait: 5_000,
    });
  };

  beforeAll(async () => {
    cpDir = await mkdtemp(join(tmpdir(), 'berth-agent-cp-'));
    agentDir = await mkdtemp(join(tmpdir(), 'berth-agent-'));
    cp = await startTestControlPlane({ dataDir: cpDir });
    port = Number(new URL(cp.url).port);
    const { digest, archive } = await packReleaseArchive(HELLO);
    await cp.admin.putArtifact(digest, archive);
    await cp.createService(
      'hello',
      { run: 'node server.js', http: { host: 'hello.localhost' }, health: { ready: { type: 'http', path: '/healthz' } }, stop: { grace: '2s' } },
      digest,
    );
    joinToken = (await cp.admin.createJoinToken()).token;
  });

  afterAll(async () => {
    await agent?.close();
    for (const s of driver?.list() ?? []) await driver.remove(s.id).catch(() => undefined);
    await driver?.close();
    await cp?.close();
    await dropTestDatabase(cpDir);
    await rm(cpDir, { recursive: true, force: true });
    await rm(agentDir, { recursive: true, force: true });
  });

  it('enrolls, heartbeats, starts an assigned instance from its artifact and reports it ready', async () => {
    await startAgent(true);
    const [host] = await cp.store.driver.query<{ id: string; memory: number; labels: object }>('SELECT id, memory, labels FROM hosts');
    expect(host).toMatchObject({ id: agent.hostId, labels: { zone: 'a' } });
    await eventually('a heartbeat', () => cp.fleet.host(agent.hostId));

    await cp.place('hello', 'hello-1', agent.hostId);
    const ready = await eventually('hello-1 ready', () => (observed('hello-1')?.state === 'ready' ? observed('hello-1') : undefined));
    expect(ready.port).toBeGreaterThan(0);
    expect(await get(ready.port!)).toContain('instance=hello-1 release=v1');
    const row = await eventually('the observed_instances row', async () =>
      (await cp.store.driver.query<{ state: string }>("SELECT state FROM observed_instances WHERE id = 'hello-1' AND state = 'ready'"))[0],
    );
    expect(row.state).toBe('ready');
  });

  it('restarts on its stored credential and adopts the running instance without a duplicate', async () => {
    const before = driver.get('hello-1');
    await agent.close();
    await driver.close();
    const hostId = agent.hostId;

    await startAgent(false);
    expect(agent.hostId).toBe(hostId);
    expect(driver.adoption.adopted).toEqual(['hello-1']);
    // Let a few convergence passes run: none may start a second process.
    await eventually('a heartbeat from the new agent', () => observed('hello-1')?.adopted);
    await sleep(1_000);
    expect(driver.list()).toHaveLength(1);
    expect(driver.get('hello-1')).toMatchObject({ pid: before?.pid, port: before?.port, state: 'ready' });
    expect(await cp.store.driver.query('SELECT id FROM hosts')).toHaveLength(1);
  });

  it('keeps instances running while the control plane is down and reconnects when it is back', async () => {
    const { pid, port: appPort } = driver.get('hello-1')!;
    await cp.close();
    await sleep(1_500); // several failed heartbeats and polls
    expect(await get(appPort)).toContain('instance=hello-1');
    expect(driver.get('hello-1')).toMatchObject({ pid, state: 'ready' });

    cp = await startTestControlPlane({ dataDir: cpDir, port });
    await eventually('a heartbeat after the outage', () => observed('hello-1'), 30_000);
    expect(driver.list()).toHaveLength(1);
    expect(driver.get('hello-1')?.pid).toBe(pid);
  });

  it('stops an instance once its stop is requested and reports it stopped', async () => {
    const { port: appPort } = driver.get('hello-1')!;
    await cp.requestStop('hello', 'hello-1', 'scale in');
    await eventually('hello-1 stopped', () => observed('hello-1')?.state === 'stopped');
    expect(await get(appPort)).toBeUndefined();
  });

  /**
   * An edge's load report every 250 ms naming `instance` in the state `state()` returns (the
   * edge's view: serving, leaving with work on it, drained); `stop()` ends the reports.
   */
  const edgeReporting = async (service: string, instance: string, state: () => EdgeInstanceState) => {
    const edge = new BerthClient({ url: cp.url, token: (await cp.admin.createEdgeToken()).token });
    const load = { service, inFlight: 0, concurrency: 0, requests: 0, rps: 0, queued: 0, rejected: 0 };
    const push = () => edge.pushEdgeMetrics({ edge: 'edge-a', at: new Date().toISOString(), intervalMs: 250, routeTableVersion: 1, services: [{ ...load, instances: [{ id: instance, ...state() }] }] });
    await push();
    const timer = setInterval(() => void push().catch(() => undefined), 250);
    return { stop: () => clearInterval(timer) };
  };
  const serving: EdgeInstanceState = { leaving: false, drained: false };
  const busy: EdgeInstanceState = { leaving: true, drained: false };
  const done: EdgeInstanceState = { leaving: true, drained: true };

  it('holds the stop signal past the minimum while an edge carries the instance, and sends it once the edge reports it drained', async () => {
    const { digest } = await packReleaseArchive(HELLO);
    await cp.createService('slow', { run: 'node server.js', http: { host: 'slow.localhost' }, stop: { grace: '20s' } }, digest);
    await cp.place('slow', 'slow-1', agent.hostId);
    await eventually('slow-1 ready', () => observed('slow-1')?.state === 'ready');
    let state = serving;
    const edge = await edgeReporting('slow', 'slow-1', () => state);
    try {
      await cp.requestStop('slow', 'slow-1', 'scale in');
      const asked = Date.now();
      state = busy;
      await sleep(3_500); // past the 2 s minimum: only the edge's request in flight holds it
      expect(driver.get('slow-1')?.state).toBe('ready');
      state = done;
      await eventually('slow-1 stopped', () => driver.get('slow-1')?.state === 'stopped');
      // well before the 20 s grace end: the drained report let it go
      expect(Date.now() - asked).toBeLessThan(12_000);
    } finally {
      edge.stop();
    }
  });

  it('stops at the grace end an instance an edge never finishes with', async () => {
    const { digest } = await packReleaseArchive(HELLO);
    await cp.createService('stuck', { run: 'node server.js', http: { host: 'stuck.localhost' }, stop: { grace: '4s' } }, digest);
    await cp.place('stuck', 'stuck-1', agent.hostId);
    await eventually('stuck-1 ready', () => observed('stuck-1')?.state === 'ready');
    const edge = await edgeReporting('stuck', 'stuck-1', () => busy);
    try {
      await cp.requestStop('stuck', 'stuck-1', 'scale in');
      const asked = Date.now();
      await eventually('stuck-1 stopped', () => driver.get('stuck-1')?.state === 'stopped');
      expect(Date.now() - asked).toBeGreaterThanOrEqual(4_000);
    } finally {
      edge.stop();
    }
  });

  it('reports an instance it cannot start (a secret not set) and starts it once the secret is there', async () => {
    const { digest } = await packReleaseArchive(HELLO);
    await cp.createService('vault', { run: 'node server.js', secrets: ['TOKEN'], http: { host: 'vault.localhost' } }, digest);
    await cp.place('vault', 'vault-1', agent.hostId);
    const failed = await eventually('vault-1 reported as not started', () => (observed('vault-1')?.state === 'exited' ? observed('vault-1') : undefined));
    expect(failed.message).toContain('TOKEN of service vault is not set');
    await cp.vault.set('default', 'TOKEN', 'hunter2');
    await eventually('vault-1 ready', () => observed('vault-1')?.state === 'ready');
  });
});
