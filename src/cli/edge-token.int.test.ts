import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestControlPlane, type TestControlPlane } from '../api/control-plane.fixture.js';
import { runBerth } from './run-cli.fixture.js';

const call = (cp: TestControlPlane, method: string, path: string, token: string, body?: unknown): Promise<Response> =>
  fetch(`${cp.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

describe('berth edge-token', () => {
  let cp: TestControlPlane;
  beforeAll(async () => {
    cp = await startTestControlPlane();
  });
  afterAll(() => cp?.close());

  it('mints a token that does what an edge does and nothing else', async () => {
    const run = await runBerth('edge-token', '--name', 'edge-eu-1', '--json', '--data', cp.dataDir);
    expect(run.code).toBe(0);
    const minted = JSON.parse(run.stdout) as { token: string; name: string; url: string };
    expect(minted).toMatchObject({ name: 'edge-eu-1', url: cp.url });

    expect((await call(cp, 'GET', '/v1/edge/routes', minted.token)).status).toBe(200);
    const report = { edge: 'edge-eu-1', at: new Date().toISOString(), intervalMs: 1000, routeTableVersion: 0, services: [] };
    expect((await call(cp, 'POST', '/v1/edge/metrics', minted.token, report)).status).toBe(204);
    // an edge cannot mint tokens or change services
    expect((await call(cp, 'POST', '/v1/edge-tokens', minted.token, {})).status).toBe(403);
    expect((await call(cp, 'POST', '/v1/join-tokens', minted.token, {})).status).toBe(403);
  });

  it('prints the token alone and how to start the edge on stderr', async () => {
    const run = await runBerth('edge-token', '--data', cp.dataDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^berth_edge_\S+\n$/);
    expect(run.stderr).toContain(`berth edge --control-plane ${cp.url}`);
  });

  it('revokes an edge token only through its own route, and says when there is none', async () => {
    const minted = JSON.parse((await runBerth('edge-token', '--json', '--data', cp.dataDir)).stdout) as { id: string; token: string };
    const join = await cp.admin.createJoinToken({});
    // the join-token route cannot revoke an edge token, nor the edge-token route the admin's own
    expect((await call(cp, 'DELETE', `/v1/join-tokens/${minted.id}`, cp.adminToken)).status).toBe(404);
    const adminId = (await cp.tokens.verify(cp.adminToken))?.tokenId;
    expect(adminId).toBeDefined();
    expect((await call(cp, 'DELETE', `/v1/edge-tokens/${adminId}`, cp.adminToken)).status).toBe(404);
    expect((await call(cp, 'DELETE', `/v1/edge-tokens/${join.id}`, cp.adminToken)).status).toBe(404);
    expect((await call(cp, 'GET', '/v1/edge/routes', minted.token)).status).toBe(200);

    expect((await call(cp, 'DELETE', `/v1/edge-tokens/${minted.id}`, cp.adminToken)).status).toBe(204);
    expect((await call(cp, 'GET', '/v1/edge/routes', minted.token)).status).toBe(401);
    expect((await call(cp, 'DELETE', '/v1/edge-tokens/nope', cp.adminToken)).status).toBe(404);
  });

  it('refuses a name that is too long, naming the field', async () => {
    const response = await call(cp, 'POST', '/v1/edge-tokens', cp.adminToken, { name: 'x'.repeat(200) });
    expect(response.status).toBe(400);
    expect(JSON.stringify(await response.json())).toContain('body.name');
  });
});
