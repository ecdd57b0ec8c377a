// The autoscaler's API over real HTTP: the edge's load intake (edge scope), activation, external
// metrics with their validation, and `berth scale` run through main() against it.
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBerth, type CliRun } from '../cli/run-cli.fixture.js';
import { BerthClient } from '../client/berth-client.js';
import type { EdgeMetricsReport } from '../edge/metrics-report.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.fixture.js';
import { testMachine } from './fake-agent.fixture.js';
import type { EnrollRequest } from './protocol/agent-protocol.js';
import type { EdgeMetrics } from './protocol/load-protocol.js';
import type { ScaleView } from './protocol/scale-protocol.js';

// The agent's machine as it enrolls: cgroup v1, with adoption and CPU weights.
const machine: EnrollRequest['machine'] = { ...testMachine, memoryEnforcement: 'cgroup-v1', capabilities: { adoption: true, cpuWeight: true } };

const report = (services: EdgeMetricsReport['services']): EdgeMetricsReport => ({ edge: 'edge-1', at: new Date().toISOString(), intervalMs: 1000, routeTableVersion: 7, services });

const load = (service: string, concurrency: number): EdgeMetricsReport['services'][number] => ({
  service,
  kind: 'http',
  mode: 'per-request',
  inFlight: concurrency,
  concurrency,
  requests: concurrency * 10,
  rps: concurrency * 10,
  statuses: { '1xx': 0, '2xx': concurrency * 10, '3xx': 0, '4xx': 0, '5xx': 0 },
  latencyMs: null,
  connections: 0,
  queued: 1,
  rejected: 0,
  retries: 0,
  instances: [],
});

// What the edge sends is what the intake takes (a compile-time check; readonly is the edge's own affair).
type Mutable<T> = { -readonly [K in keyof T]: T[K] extends readonly (infer E)[] ? E[] : T[K] };
const _sameShape = (r: EdgeMetricsReport): EdgeMetrics => r as Mutable<EdgeMetricsReport>;
void _sameShape;

async function post(cp: TestControlPlane, path: string, token: string | undefined, body: unknown) {
  const response = await fetch(cp.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as { error?: { message: string } } & Record<string, unknown>) };
}

/** Runs `berth <args> --url … --token …` in this process; its output and exit code. */
function berth(cp: TestControlPlane, ...args: string[]): Promise<CliRun> {
  return runBerth(...args, '--url', cp.url, '--token', cp.adminToken);
}

describe('autoscaler API', () => {
  let cp: TestControlPlane;
  let edgeToken: string;

  beforeAll(async () => {
    cp = await startTestControlPlane({ log: pino({ level: 'silent' }) });
    edgeToken = (await cp.tokens.issue({ scope: 'edge', name: 'edge-1' })).token;
    const { token } = await cp.admin.createJoinToken({ ttl: '10m' });
    await new BerthClient({ url: cp.url, token }).enroll({ name: 'box-1', address: '127.0.0.1', labels: {}, machine });
    await cp.createService('web', { run: 'node server.js', replicas: 1 }, 'sha256:web');
    await cp.createService('worker', { run: 'node worker.js', scale: { min: 1, max: 10, target: { metric: 'queue_depth', value: 100 } } }, 'sha256:worker');
    await cp.createService('lazy', { run: 'node lazy.js', scale: { min: 0, max: 3, target: { concurrency: 10 }, idle: '2m' } }, 'sha256:lazy');
    await cp.createService('dns', { run: 'node dns.js', ports: [8053], replicas: 1 }, 'sha256:dns');
  });
  afterAll(() => cp?.close());

  describe('POST /v1/edge/metrics', () => {
    it('takes an edge report with the edge scope only', async () => {
      const body = report([load('web', 12)]);
      expect((await post(cp, '/v1/edge/metrics', undefined, body)).status).toBe(401);
      const admin = await post(cp, '/v1/edge/metrics', cp.adminToken, body);
      expect(admin.status).toBe(403);
      expect(admin.body?.error?.message).toContain('needs a token with scope edge');
      expect((await post(cp, '/v1/edge/metrics', edgeToken, body)).status).toBe(204);
      // open: 12 in flight, 0 connections pinned, 1 queued
      expect((await cp.autoscaler.loads.read()).edgeLoad(['web'])).toEqual({ concurrency: 13, rps: 120, queued: 1, open: 13, edges: 1 });
    });

    it('counts a pinned connection with no request in flight as open work: a WebSocket keeps a min-0 service from idling', async () => {
      const tunnel = { ...load('ws', 0), inFlight: 0, concurrency: 0, rps: 0, requests: 0, queued: 0, connections: 1 };
      expect((await post(cp, '/v1/edge/metrics', edgeToken, report([tunnel]))).status).toBe(204);
      expect((await cp.autoscaler.loads.read()).edgeLoad(['ws'])).toMatchObject({ concurrency: 0, rps: 0, open: 1 });
    });

    it('refuses a report it cannot read, naming the field', async () => {
      const bad = report([{ ...load('web', 1), rps: -3 }]);
      const answer = await post(cp, '/v1/edge/metrics', edgeToken, bad);
      expect(answer.status).toBe(400);
      expect(answer.body?.error?.message).toMatch(/^body\.services\[0\]\.rps: /);
    });
  });

  describe('POST /v1/services/:service/metrics', () => {
    it('stores the metric the service scales on', async () => {
      const answer = await post(cp, '/v1/services/worker/metrics', cp.adminToken, { metric: 'queue_depth', value: 420 });
      expect(answer.status).toBe(202);
      expect(answer.body).toMatchObject({ service: 'worker', metric: 'queue_depth', value: 420, target: 'queue_depth' });
      expect((await cp.autoscaler.loads.read()).externalMetric(['worker'], 'queue_depth')?.value).toBe(420);
    });

    it.each([
      [{ metric: 'queue_depth', value: -1 }, /^body\.value: is negative; send the current total/],
      [{ metric: 'queue depth', value: 1 }, /^body\.metric: "queue depth" is not a metric name/],
      [{ metric: 'queue_dept', value: 1 }, /^body\.metric: worker autoscales on queue_depth, not queue_dept; push queue_depth/],
      [{ value: 1 }, /^body\.metric: /],
      [{ metric: 'queue_depth', value: 1, unit: 'jobs' }, /body\.unit/],
    ])('refuses %j with a 400 naming the field', async (body, message) => {
      const answer = await post(cp, '/v1/services/worker/metrics', cp.adminToken, body);
      expect(answer.status).toBe(400);
      expect(answer.body?.error?.message).toMatch(message);
    });

    it('is not for edges or unknown services', async () => {
      expect((await post(cp, '/v1/services/worker/metrics', edgeToken, { metric: 'queue_depth', value: 1 })).status).toBe(403);
      expect((await post(cp, '/v1/services/nope/metrics', cp.adminToken, { metric: 'queue_depth', value: 1 })).status).toBe(404);
    });
  });

  describe('POST /v1/services/:service/activate', () => {
    it('wakes a service at zero once, as an autoscale decision with reason activation', async () => {
      const first = await post(cp, '/v1/services/lazy/activate', edgeToken, { edge: 'edge-1', queued: 2 });
      expect(first).toEqual({ status: 202, body: { service: 'lazy', replicas: 1, activated: true } });
      const again = await post(cp, '/v1/services/lazy/activate', edgeToken, { edge: 'edge-1', queued: 5 });
      expect(again.body).toEqual({ service: 'lazy', replicas: 1, activated: false });
      const view = await cp.admin.scale('lazy');
      expect(view.decisions).toEqual([
        { at: expect.any(String), from: 0, to: 1, reason: 'activation: 2 requests wait at edge edge-1 → 1', signals: { queued: 2, replicas: 0 }, actor: 'autoscaler' },
      ]);
    });

    it('refuses a body without the edge', async () => {
      const answer = await post(cp, '/v1/services/lazy/activate', edgeToken, { queued: 1 });
      expect(answer.status).toBe(400);
      expect(answer.body?.error?.message).toMatch(/^body\.edge: /);
    });
  });

  describe('berth scale', () => {
    it('sets a fixed count', async () => {
      const { code, stdout } = await berth(cp, 'scale', 'web', '3');
      expect(code).toBe(0);
      expect(stdout).toBe('web: fixed at 3 instances\n  now       desired 3, placed 0, ready 0\n');
    });

    it('autoscales with set, keeping what is not given', async () => {
      let run = await berth(cp, 'scale', 'set', 'web', '--min', '1', '--max', '10', '--target', 'concurrency=20');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('web: autoscaled 1..10 on concurrency 20 per instance\n');
      expect(run.stdout).toContain('pending   not evaluated here');
      run = await berth(cp, 'scale', 'set', 'web', '--max', '6', '--json');
      const view = JSON.parse(run.stdout) as ScaleView;
      expect(view.scale).toEqual({ min: 1, max: 6, target: { type: 'concurrency', value: 20 } });
      expect(view.current.desired).toBe(3);
    });

    it('starts and ends a burst', async () => {
      let run = await berth(cp, 'scale', 'burst', 'web', '5', '--for', '30m');
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/\n {2}burst {5}at least 5 until \S+ \((29m59s|30m) left\)\n {2}now {7}desired 5,/);
      run = await berth(cp, 'scale', 'burst', 'web', '--end', '--json');
      expect((JSON.parse(run.stdout) as ScaleView).burst).toBeNull();
      run = await berth(cp, 'scale', 'burst', 'web', '5');
      expect(run).toMatchObject({ code: 1, stderr: 'berth: --for: missing; a burst expires, write e.g. berth scale burst web 5 --for 30m\n' });
    });

    it('shows the spec, the counts and the decisions as JSON', async () => {
      const { code, stdout } = await berth(cp, 'scale', 'show', 'lazy', '--json');
      expect(code).toBe(0);
      const view = JSON.parse(stdout) as ScaleView;
      expect(view).toMatchObject({ service: 'lazy', mode: 'auto', scale: { min: 0, max: 3, idle: 120_000 }, current: { desired: 1 }, pending: null });
      expect(view.decisions[0]?.reason).toMatch(/^activation/);
      const text = await berth(cp, 'scale', 'show', 'lazy');
      expect(text.stdout).toMatch(/^lazy: autoscaled 0\.\.3 on concurrency 10 per instance, to zero after 2m idle\n/);
      expect(text.stdout).toMatch(/decisions \(newest first\)\n {4}\S+ {2}0 → 1 {2}activation: 2 requests wait at edge edge-1 → 1\n$/);
    });

    it('turns autoscaling off at the current count', async () => {
      const { code, stdout } = await berth(cp, 'scale', 'off', 'web', '--json');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ mode: 'fixed', replicas: 3, scale: null });
    });

    it('fails with the field and a non-zero exit on bad input', async () => {
      expect(await berth(cp, 'scale', 'set', 'web', '--max', '4', '--target', 'fast')).toMatchObject({
        code: 1,
        stderr: 'berth: --target: "fast" is not kind=value; write concurrency=20, rps=100, cpu=70, or queue_depth=100 for an external metric\n',
      });
      const run = await berth(cp, 'scale', 'set', 'web', '--min', '5', '--max', '2', '--target', 'rps=50');
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('min 5 is above max 2; lower min or raise max');
      expect(await berth(cp, 'scale', 'web', 'three')).toMatchObject({ code: 1, stderr: 'berth: replicas: "three" is not a whole number of 0 or more; write e.g. 2\n' });
      expect((await berth(cp, 'scale', 'show', 'nope')).stderr).toContain('service nope does not exist');
    });

    it('refuses more instances of a fixed-port service than hosts can take one, saying how many can', async () => {
      const run = await berth(cp, 'scale', 'dns', '2');
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'berth: body.replicas: 2 is more than dns can run: it binds host port 8053, so it runs at most one instance per host, and 1 host can take one; ask for 1 or fewer, or enroll (or uncordon) more hosts\n',
      );
      expect((await berth(cp, 'scale', 'dns', '1')).code).toBe(0);
      const set = await berth(cp, 'scale', 'set', 'dns', '--max', '3', '--target', 'cpu=70');
      expect(set.stderr).toContain('body.max: 3 is more than dns can run');
    });
  });
});
