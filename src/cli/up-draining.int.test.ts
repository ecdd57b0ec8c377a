// Draining end to end (issue 5 item 7) through the real control plane, agent and edge of
// `berth up`: scaling 4 → 1 under continuous load while slow requests (4 s) are in flight on
// every instance. The app exits at once on SIGTERM, without finishing its requests, so only the
// drain keeps them whole: each slow request answers 200, and each leaving instance is stopped
// soon after its last one completes, when the edge reports it drained, long before its 30 s
// grace ends. The seconds are printed; the bounds asserted are loose.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { BerthUp, buildBerth, testService, until } from './berth-up.fixture.js';

const HOST = 'hello.localhost';
const SLOW_MS = 4_000;
const GRACE_MS = 30_000;

/** `/slow` answers after 4 s, the rest at once, each with the instance's id; SIGTERM exits on the spot. */
const APP = `import { createServer } from 'node:http';
const instance = process.env.BERTH_INSTANCE;
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200).end('ok\\n'); return; }
  const answer = () => res.writeHead(200, { 'content-type': 'text/plain' }).end(\`v1 \${instance}\\n\`);
  if (req.url === '/slow') setTimeout(answer, ${SLOW_MS});
  else answer();
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

describe('berth up drains leaving instances, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-draining-'));
  const box = new BerthUp(dir);

  beforeAll(async () => {
    await buildBerth();
    mkdirSync(box.app);
    writeFileSync(join(box.app, 'server.mjs'), APP);
    writeFileSync(join(box.app, 'berth.yaml'), `services:\n${testService('hello', 'replicas: 4', `${GRACE_MS / 1000}s`)}`);
    await box.start(['-f', 'berth.yaml'], box.app);
  }, 180_000);

  afterAll(async () => {
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scales 4 → 1 under load with slow requests in flight: none fails, and each leaving instance stops once its requests are done', async () => {
    // a failure here has been seen once under a loaded CI run and not reproduced: keep what berth up said
    onTestFailed(() => console.log(`berth up's output:\n${box.log}`));
    await until('4 instances answering', async () => ((await box.answering(40, { host: HOST })).size === 4 ? true : undefined), 60_000);
    const before = (await box.service('hello')).instances.filter((i) => i.stopRequestedAt === null).map((i) => i.id);
    expect(before).toHaveLength(4);

    const load = box.load(HOST);
    // Two slow requests per instance on average, each on its own connection; least-outstanding
    // balancing spreads them, so the three leaving instances carry some when the scale-in comes.
    const slow = Array.from({ length: 8 }, async () => {
      const { status, body } = await box.request({ host: HOST, path: '/slow' });
      return { status, instance: body.trim().split(' ')[1] ?? body, doneAt: Date.now() };
    });
    await sleep(500);
    const scaledAt = Date.now();
    const scaled = await box.berth(['scale', 'hello', '1']);
    expect('failed' in scaled ? scaled.stderr : '').toBe('');

    // When each instance is first seen gone from the service (stopped and reported), polled every 200 ms.
    const stoppedAt = new Map<string, number>();
    await until(
      'the scale-in to stop three instances',
      async () => {
        const running = new Set((await box.service('hello')).instances.map((i) => i.id));
        for (const id of before) if (!running.has(id) && !stoppedAt.has(id)) stoppedAt.set(id, Date.now());
        return stoppedAt.size === 3 ? true : undefined;
      },
      GRACE_MS,
    );
    const answers = await Promise.all(slow);
    await sleep(500);
    await load.stop();

    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
    expect(load.failures).toEqual([]);
    expect(load.total()).toBeGreaterThan(50);

    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const lines: string[] = [];
    let carried = 0;
    for (const [id, at] of stoppedAt) {
      const done = answers.filter((a) => a.instance === id).map((a) => a.doneAt);
      const lastDone = done.length === 0 ? undefined : Math.max(...done);
      lines.push(`${id}: slow answers ${done.length}, stopped ${seconds(at - scaledAt)} after the scale-in${lastDone === undefined ? '' : `, ${seconds(at - lastDone)} after its last slow answer`}`);
      // not stopped under its requests (they answered 200), and not left to the grace end
      expect(at - scaledAt).toBeLessThan(GRACE_MS / 2);
      if (lastDone === undefined) continue;
      carried++;
      expect(at).toBeGreaterThanOrEqual(lastDone);
      expect(at - lastDone).toBeLessThan(5_000);
    }
    console.log(`scale-in 4 → 1 under ${load.total()} requests: ${load.failures.length} failed\n  ${lines.join('\n  ')}`);
    // least-outstanding balancing left a slow request on at least one leaving instance
    expect(carried).toBeGreaterThan(0);
  }, 120_000);
});
