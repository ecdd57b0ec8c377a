// The API over real HTTP with the store behind it: auth, JSON errors, join tokens, the
// control-plane side of the agent protocol, artifacts and the OpenAPI document.
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BerthClient } from '../client/berth-client.js';
import { packReleaseArchive } from '../client/release-archive.js';
import { BerthError, ForbiddenError, UnauthorizedError, ValidationError } from '../core/errors.js';
import type { HostRow } from '../store/projections/hosts.js';
import { startTestControlPlane, type TestControlPlane } from './control-plane.fixture.js';
import { testMachine } from './fake-agent.fixture.js';
import type { EnrollRequest, HeartbeatRequest } from './protocol/agent-protocol.js';

const HELLO = fileURLToPath(new URL('../../examples/hello', import.meta.url));

// The agent's machine as it enrolls: cgroup v1, with adoption and CPU weights.
const machine: EnrollRequest['machine'] = { ...testMachine, memoryEnforcement: 'cgroup-v1', capabilities: { adoption: true, cpuWeight: true } };

const heartbeat = (instances: HeartbeatRequest['instances'] = []): HeartbeatRequest => ({
  usage: { memory: { total: 8 * 2 ** 30, used: 2 ** 30 }, cpu: { cores: 4, millicores: 250 } },
  instances,
  agent: { version: 'test', memoryEnforcement: 'cgroup-v1' },
});

async function raw(cp: TestControlPlane, method: string, path: string, init: { token?: string; body?: string } = {}) {
  const response = await fetch(cp.url + path, {
    method,
    headers: { ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string; details?: unknown } } & Record<string, unknown> };
}

describe('API', () => {
  let cp: TestControlPlane;
  let join: BerthClient;
  let agent: BerthClient;
  let hostId: string;

  beforeAll(async () => {
    cp = await startTestControlPlane();
    const { token } = await cp.admin.createJoinToken({ ttl: '10m' });
    join = new BerthClient({ url: cp.url, token });
    const enrolled = await join.enroll({ name: 'box 1', address: '127.0.0.1', labels: { zone: 'a' }, machine });
    hostId = enrolled.hostId;
    agent = new BerthClient({ url: cp.url, token: enrolled.token });
  });
  afterAll(() => cp?.close());

  it('writes the admin token once, mode 0600, and keeps it across restarts', async () => {
    const info = await stat(cp.adminTokenPath);
    expect(info.mode & 0o777).toBe(0o600);
    expect(cp.adminTokenCreated).toBe(true);
    expect(cp.adminToken).toMatch(/^berth_admin_/);
  });

  it('answers health and the OpenAPI document without a token', async () => {
    expect(await new BerthClient({ url: cp.url }).health()).toMatchObject({ ok: true });
    const doc = await new BerthClient({ url: cp.url }).openapi();
    const paths = doc.paths as Record<string, Record<string, { requestBody?: unknown }>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/agent/enroll', '/v1/agent/heartbeat', '/v1/agent/assignments', '/v1/join-tokens']));
    expect(paths['/v1/agent/enroll']?.post?.requestBody).toBeDefined();
  });

  it('answers unknown routes with a JSON 404', async () => {
    const { status, body } = await raw(cp, 'GET', '/v1/nope');
    expect(status).toBe(404);
    expect(body.error?.code).toBe('not_found');
    expect(body.error?.message).toContain('/v1/openapi.json');
  });

  it('refuses without a token (401) and with the wrong scope (403), as JSON', async () => {
    const none = await raw(cp, 'POST', '/v1/join-tokens', { body: '{}' });
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('unauthorized');
    const bogus = await raw(cp, 'POST', '/v1/join-tokens', { token: 'berth_admin_nope', body: '{}' });
    expect(bogus.status).toBe(401);
    await expect(agent.createJoinToken()).rejects.toBeInstanceOf(ForbiddenError);
    await expect(join.heartbeat(heartbeat())).rejects.toBeInstanceOf(ForbiddenError);
    await expect(cp.admin.heartbeat(heartbeat())).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    await expect(new BerthClient({ url: cp.url }).assignments()).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('rejects bad input with a 400 naming the field and the fix, and writes nothing', async () => {
    const error = await join.enroll({ name: 'x', address: '127.0.0.1', machine: { ...machine, cores: -1 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as BerthError).message).toContain('body.machine.cores');
    const reserved = await join.enroll({ name: 'x', address: '127.0.0.1', machine: { ...machine, reservedMemory: machine.physicalMemory } }).catch((e: unknown) => e);
    expect((reserved as BerthError).message).toMatch(/reservedMemory.*lower --reserved-memory/);
    const notJson = await raw(cp, 'POST', '/v1/join-tokens', { token: cp.adminToken, body: '{oops' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error?.message).toContain('not valid JSON');
    const ttl = await raw(cp, 'POST', '/v1/join-tokens', { token: cp.adminToken, body: '{"ttl":"soon"}' });
    expect(ttl.status).toBe(400);
    expect(ttl.body.error?.message).toMatch(/^body\.ttl: .*30s/);
    const hosts = await cp.store.driver.query<HostRow>('SELECT * FROM hosts');
    expect(hosts.map((h) => h.name)).toEqual(['box 1']);
  });

  it('enrolls a host: HostEnrolled with allocatable memory, labels and the machine, and an agent credential', async () => {
    const [row] = await cp.store.driver.query<HostRow>('SELECT * FROM hosts WHERE id = $1', [hostId]);
    expect(row).toMatchObject({ name: 'box 1', memory: 7 * 2 ** 30, cpu: 4000, labels: { zone: 'a' }, status: 'active' });
    const { events } = await cp.store.readStream(`host-${hostId}`);
    expect(events[0]).toMatchObject({ type: 'HostEnrolled', data: { machine: { memoryEnforcement: 'cgroup-v1', driver: 'process' } } });
  });

  it('refuses an expired or revoked join token', async () => {
    const { id, token } = await cp.admin.createJoinToken();
    await cp.admin.revokeJoinToken(id);
    await expect(new BerthClient({ url: cp.url, token }).enroll({ name: 'x', address: '127.0.0.1', machine })).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('records heartbeats as observed state, not events', async () => {
    const before = await cp.store.readStream(`host-${hostId}`);
    await agent.heartbeat(heartbeat([{ id: 'web-a', state: 'ready', port: 4000, restarts: 0, since: Date.now(), rssBytes: 1234 }]));
    await agent.heartbeat(heartbeat([{ id: 'web-b', state: 'exited', port: 4001, restarts: 2, since: Date.now(), lastExit: { code: 3, signal: null, oom: false, at: Date.now() } }]));
    expect((await cp.store.readStream(`host-${hostId}`)).version).toBe(before.version);
    const rows = await cp.store.driver.query<{ id: string; state: string; last_exit: { code: number } }>('SELECT * FROM observed_instances WHERE host_id = $1', [hostId]);
    expect(rows).toEqual([expect.objectContaining({ id: 'web-b', state: 'exited', last_exit: expect.objectContaining({ code: 3 }) })]);
    expect(cp.fleet.host(hostId)?.usage.cpu.millicores).toBe(250);
    const bad = await agent.heartbeat({ ...heartbeat(), instances: [{ id: 'x', state: 'sleepy' as 'ready', port: 1, restarts: 0, since: 0 }] }).catch((e: unknown) => e);
    expect((bad as BerthError).message).toContain('body.instances[0].state');
  });

  it('serves the host its complete assignment set and holds a long-poll until it changes', async () => {
    const { digest, archive } = await packReleaseArchive(HELLO);
    expect(await cp.admin.hasArtifact(digest)).toBe(false);
    expect((await cp.admin.putArtifact(digest, archive)).created).toBe(true);
    expect(await cp.admin.hasArtifact(digest)).toBe(true);
    await cp.createService('web', { run: 'node server.js', env: { GREETING: 'hi' }, secrets: ['API_KEY'], http: { host: 'web.localhost' } }, digest);
    await cp.place('web', 'web-1', hostId);
    await cp.place('web', 'elsewhere-1', 'another-host', { replica: 1 });

    // The version comes from the feed following the log, which may lag the placement just
    // written (a busy machine): poll past the log's start, as an agent does, so the version is
    // the set's own and the idle poll below has nothing new to see.
    const first = await agent.assignments({ after: '0.0', wait: 10_000 });
    expect(first.instances.map((a) => a.instance)).toEqual(['web-1']);
    expect(first.instances[0]).toMatchObject({ serviceName: 'web', release: 1, digest, command: 'node server.js', env: { GREETING: 'hi' }, secrets: ['API_KEY'], port: null });

    // Nothing changes for this host: the poll returns the same version after its wait.
    const idle = await agent.assignments({ after: first.version, wait: 200 });
    expect(idle.version).toBe(first.version);

    const polling = agent.assignments({ after: first.version, wait: 20_000 });
    await cp.place('web', 'web-2', hostId, { replica: 2 });
    const changed = await polling;
    expect(changed.version).not.toBe(first.version);
    expect(changed.instances.map((a) => a.instance)).toEqual(['web-1', 'web-2']);

    const stopping = agent.assignments({ after: changed.version, wait: 20_000 });
    await cp.requestStop('web', 'web-1');
    expect((await stopping).instances.map((a) => a.instance)).toEqual(['web-2']);
  });

  it('delivers artifacts by digest and refuses a body that does not match its digest', async () => {
    const { digest, archive } = await packReleaseArchive(HELLO);
    const body = await agent.agentArtifact(digest);
    const chunks: Uint8Array[] = [];
    for await (const chunk of body) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(archive)).toBe(true);
    const wrong = `sha256:${'0'.repeat(64)}`;
    await expect(cp.admin.putArtifact(wrong, archive)).rejects.toThrow(/hashes to sha256:/);
    await expect(agent.agentArtifact(wrong)).rejects.toMatchObject({ status: 404 });
    await expect(agent.agentArtifact('latest')).rejects.toMatchObject({ status: 400 });
  });

  it("delivers an instance's secrets only to its host, decrypted, and names a missing one", async () => {
    await expect(agent.instanceSecrets('web-2')).rejects.toThrow(/API_KEY of service web is not set; set it with berth secrets set web API_KEY \(the value read from the environment variable API_KEY\)/);
    await cp.vault.set('default', 'API_KEY', 's3cret');
    expect(await agent.instanceSecrets('web-2')).toEqual({ secrets: { API_KEY: 's3cret' } });
    const sealed = await cp.store.driver.query<{ sealed: string }>('SELECT sealed FROM secret_values');
    expect(JSON.stringify(sealed)).not.toContain('s3cret');
    await expect(agent.instanceSecrets('elsewhere-1')).rejects.toMatchObject({ status: 404 });
  });
});

describe('request logs', () => {
  it('log each request without tokens, headers or query strings', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
    const cp = await startTestControlPlane({ log: pino({ level: 'debug' }, sink) });
    try {
      const { token } = await cp.admin.createJoinToken();
      const enrolled = await new BerthClient({ url: cp.url, token }).enroll({ name: 'logged', address: '127.0.0.1', machine });
      await new BerthClient({ url: cp.url, token: enrolled.token }).assignments({ after: '0.0', wait: 0 });
      await raw(cp, 'GET', '/v1/nope', { token: cp.adminToken });
      const log = lines.join('');
      expect(log).toContain('"path":"/v1/join-tokens"');
      expect(log).toContain('"path":"/v1/agent/enroll"');
      expect(log).toContain('"status":404');
      for (const secret of [cp.adminToken, token, enrolled.token]) expect(log).not.toContain(secret);
      expect(log).not.toMatch(/authorization|berth_(admin|join|agent)_|after=/i);
    } finally {
      await cp.close();
    }
  });
});
