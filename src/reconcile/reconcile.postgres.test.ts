// The reconcilers on a real Postgres (BERTH_TEST_DATABASE_URL), where the SQL they read with
// could differ from PGlite's: scale, lose a host, roll out, and settle to no appends.
import { randomUUID } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { openPostgresDriver } from '../store/postgres-driver.js';
import { openTestPlatform } from './test-platform.fixture.js';
import { testDatabaseUrl, testServerUrl } from '../store/test-database.fixture.js';

const schema = `berth_test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

if (testServerUrl) {
  test('scales, replaces a lost host, rolls out and settles on Postgres', async () => {
    const p = await openTestPlatform({ driver: await openPostgresDriver(await testDatabaseUrl(), { schema }) });
    try {
      for (const h of ['h1', 'h2', 'h3']) await p.enroll(h);
      await p.createService('web', { run: 'node server.js', replicas: 2, ports: [] });
      await p.createService('dns', { run: 'coredns', ports: [5353], replicas: 3 });
      await p.settle();
      await p.step(15_000);
      expect(await p.live('web')).toHaveLength(2);
      expect((await p.live('dns')).map((i) => i.port)).toEqual([5353, 5353, 5353]);

      p.agentDown('h1');
      await p.step(40_000);
      expect((await p.live('web')).some((i) => i.host_id === 'h1')).toBe(false);
      // no host without port 5353 taken is left: the lost host keeps its instance until one is
      expect((await p.live('dns')).map((i) => i.host_id).sort()).toEqual(['h1', 'h2', 'h3']);
      expect(p.status.service('dns')?.messages[0]).toMatch(/only 2 hosts can take one/);

      await p.deploy('web', { run: 'node server.js', replicas: 2, env: { V: '2' } });
      for (let i = 0; i < 6; i++) await p.step(11_000);
      expect((await p.live('web')).map((i) => i.release)).toEqual([2, 2]);
      expect(await p.pass()).toBe(0);
    } finally {
      await p.close();
    }
  });
} else {
  describe('reconcilers on Postgres', () => {
    test.skip('needs BERTH_TEST_DATABASE_URL=postgres://…', () => {});
  });
}
