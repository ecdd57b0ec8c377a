// Autoscaling end to end (issue 7 item 6): the real `bin/berth.js` runs `berth up`; a load
// generator on 127.0.0.1 drives a slow app through its edge. A 10× step in concurrent clients
// scales `busy` out, and it comes back in once the load is gone and its (short, from the spec)
// stabilization has passed; `sleepy` (min 0) goes to zero after its idle and serves the next
// request, held by the edge while the activator wakes it. The seconds are printed, not asserted,
// beyond the issue's own 10 s bound.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScaleView } from '../api/protocol/scale-protocol.js';
import type { ServiceStatusInfo } from '../api/protocol/status-protocol.js';
import { BerthUp, buildBerth, testService, until } from './berth-up.fixture.js';

/** Answers after 80 ms, so in-flight requests pile up with the clients; health answers at once. */
const SLOW_APP = `import { createServer } from 'node:http';
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(200).end('ok\\n'); return; }
  setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain' }).end(\`\${process.env.BERTH_INSTANCE}\\n\`), 80);
});
server.listen(Number(process.env.PORT));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

// ~1 client in flight is half of one instance's target (2); 10 clients ask for 5 instances.
const BERTH_YAML = `services:
${testService('busy', 'scale: { min: 1, max: 6, target: { concurrency: 2 }, stabilization: 10s }', '2s')}${testService('sleepy', 'scale: { min: 0, max: 2, target: { concurrency: 10 }, idle: 10s }', '2s')}`;

describe('berth up autoscales, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-up-autoscale-'));
  const box = new BerthUp(dir);

  const scaleShow = async (service: string): Promise<ScaleView> => (await box.berthJson(['scale', 'show', service])) as ScaleView;
  const status = async (service: string): Promise<ServiceStatusInfo> => (await box.berthJson(['status', service])) as ServiceStatusInfo;

  /** `clients` concurrent keep-alive-free clients on busy.localhost until stopped; bounded by `maxRequests`. */
  const clients = (count: number, maxRequests = 20_000) => {
    let running = true;
    let total = 0;
    let busyMs = 0;
    const startedAt = Date.now();
    const failures: string[] = [];
    const client = async () => {
      while (running && total < maxRequests) {
        const sent = Date.now();
        try {
          const { status: code, body } = await box.request({ host: 'busy.localhost' });
          if (code !== 200) failures.push(`${code} ${body.trim()}`);
        } catch (error) {
          failures.push((error as Error).message);
        }
        busyMs += Date.now() - sent;
        total++;
        await sleep(10);
      }
    };
    const all = Array.from({ length: count }, client);
    return {
      failures,
      /** requests per second and mean latency as the clients saw them; their product is the load in flight */
      seen: () => {
        const seconds = (Date.now() - startedAt) / 1000;
        return `${(total / seconds).toFixed(0)} req/s at ${(busyMs / Math.max(total, 1)).toFixed(0)} ms, ~${(busyMs / 1000 / seconds).toFixed(1)} in flight`;
      },
      stop: async () => {
        running = false;
        await Promise.all(all);
      },
    };
  };

  beforeAll(async () => {
    await buildBerth();
    mkdirSync(box.app);
    writeFileSync(join(box.app, 'server.mjs'), SLOW_APP);
    writeFileSync(join(box.app, 'berth.yaml'), BERTH_YAML);
    await box.start(['-f', 'berth.yaml'], box.app);
  }, 180_000);

  afterAll(async () => {
    await box.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scales out within 10 s of a 10× load step, and back in after stabilization', async () => {
    await until('busy to serve through the edge', async () => ((await box.request({ host: 'busy.localhost' })).status === 200 ? true : undefined));
    // One client: the autoscaler sees ~1 in flight, within one instance's target.
    const calm = clients(1);
    await until('the autoscaler to see busy', async () => ((await scaleShow('busy')).pending?.waiting === undefined ? true : undefined), 20_000);
    await sleep(3_000);
    const before = await scaleShow('busy');
    expect(before.current.ready).toBe(1);
    console.log(`before the step: edge concurrency ${before.pending?.inputs.value ?? '?'} (${before.pending?.reason ?? ''})`);

    // The 10× step: ten more clients.
    const stepAt = Date.now();
    const step = clients(10);
    const out = await until('busy to scale out', async () => {
      const view = await scaleShow('busy');
      return view.current.ready > before.current.ready ? view : undefined;
    }, 30_000);
    const scaleOutSeconds = (Date.now() - stepAt) / 1000;
    console.log(`busy scaled out ${before.current.ready} → ${out.current.ready} ready ${scaleOutSeconds.toFixed(1)} s after a 10× load step`);
    console.log(`  decision: ${out.decisions[0]?.reason ?? '(none)'}`);
    expect(out.decisions[0]?.actor).toBe('autoscaler');
    expect(scaleOutSeconds).toBeLessThanOrEqual(10);

    // A while longer under the step, to see where it settles.
    await sleep(8_000);
    const peak = await scaleShow('busy');
    console.log(`  8 s later: desired ${peak.current.desired}, ready ${peak.current.ready}; edge concurrency ${peak.pending?.inputs.value ?? '?'}`);
    console.log(`  clients: before the step ${calm.seen()}; the step ${step.seen()}`);
    expect(peak.current.desired).toBeGreaterThan(1);
    await step.stop();
    await calm.stop();
    expect(step.failures).toEqual([]);
    expect(calm.failures).toEqual([]);

    // No load: back to min once the panic and scale-down cooldown (60 s after the last scale-up)
    // and the 10 s stabilization have passed.
    const stopAt = Date.now();
    const back = await until('busy to scale back in', async () => {
      const view = await scaleShow('busy');
      return view.current.desired === 1 && view.current.ready === 1 ? view : undefined;
    }, 100_000);
    console.log(`busy scaled back in to ${back.current.ready} ${((Date.now() - stopAt) / 1000).toFixed(1)} s after the load stopped`);
    console.log(`  decision: ${back.decisions[0]?.reason ?? '(none)'}`);
    expect(back.decisions[0]?.to).toBeLessThan(back.decisions[0]?.from ?? 0);
  }, 180_000);

  it('a min-0 service goes to zero after its idle and serves its next request', async () => {
    // Deployed at min 0 it waits at zero; the first request wakes it.
    const sleepy = () => box.request({ host: 'sleepy.localhost' });
    const first = await sleepy();
    expect(first.status).toBe(200);

    const zero = await until('sleepy to go to zero', async () => {
      const view = await scaleShow('sleepy');
      return view.current.desired === 0 && view.current.placed === 0 ? view : undefined;
    }, 60_000);
    expect(zero.decisions[0]).toMatchObject({ from: 1, to: 0, actor: 'autoscaler' });
    console.log(`sleepy went to zero: ${zero.decisions[0]?.reason ?? ''}`);
    expect((await status('sleepy')).ready).toBe(0);

    const wokenAt = Date.now();
    const next = await sleepy();
    console.log(`sleepy served its next request from zero in ${((Date.now() - wokenAt) / 1000).toFixed(1)} s`);
    expect(next.status).toBe(200);
    expect(next.body.trim(), 'a new instance answers').not.toBe(first.body.trim());
    const after = await status('sleepy');
    expect(after.scale).toMatchObject({ mode: 'auto', min: 0, desired: 1 });
    expect(after.ready).toBe(1);
    const woken = await scaleShow('sleepy');
    expect(woken.decisions[0]).toMatchObject({ from: 0, to: 1 });
    expect(woken.decisions[0]?.reason).toMatch(/^activation: /);
  }, 120_000);
});
