import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));

/** Runs `berth <args>` in process, capturing what it writes. */
async function berth(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    const code = await main(['node', 'berth', ...args]);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

const fleet = join(dir, 'fleet.json');
const workload = join(dir, 'workload.json');
const plan = join(dir, 'plan.json');

describe('berth sim', () => {
  it('generates, places, checks and explains', async () => {
    const gen = await berth('sim', 'generate', '--hosts', '50', '--instances', '2000', '--seed', '4', '--out', dir);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(/wrote .*fleet\.json: 50 hosts \(\d+ schedulable, [\d.]+Ti allocatable\)/);
    expect(gen.stdout).toMatch(/2,000 instances asking [\d.]+Ti \(70\.\d% of allocatable\)/);

    const placed = await berth('sim', 'place', '--fleet', fleet, '--workload', workload, '--seed', '4', '--out', plan);
    expect(placed.code).toBe(0);
    expect(placed.stdout).toMatch(/placed [\d,]+ of 2,000 instances on \d+ of 50 hosts/);
    expect(placed.stdout).toMatch(/packing ratio \d\.\d{4}/);
    expect(JSON.parse(readFileSync(plan, 'utf8'))).toMatchObject({ seed: 4, placements: expect.any(Array) as unknown });

    const checked = await berth('sim', 'check', '--fleet', fleet, '--workload', workload, '--plan', plan);
    expect(checked).toMatchObject({ code: 0, stderr: '' });
    expect(checked.stdout).toMatch(/plan\.json: ok — [\d,]+ placements, \d+ unplaceable with reasons, 0 violations/);

    const first = (JSON.parse(readFileSync(workload, 'utf8')) as { services: { name: string }[] }).services[0]!.name;
    const explained = await berth('sim', 'explain', '--fleet', fleet, '--workload', workload, '--instance', `${first}/0`);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toContain(`instance ${first}/0: placed on`);
    expect(explained.stdout).toContain('candidates:');
  });

  it('exits 1 and lists violations for a broken plan', async () => {
    const broken = JSON.parse(readFileSync(plan, 'utf8')) as { placements: unknown[] };
    broken.placements.pop();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(broken));
    const checked = await berth('sim', 'check', '--fleet', fleet, '--workload', workload, '--plan', bad);
    expect(checked.code).toBe(1);
    expect(checked.stdout).toMatch(/bad\.json: 1 violations\n {2}missing: .* is neither placed nor reported unplaceable/);
    const json = await berth('sim', 'check', '--fleet', fleet, '--workload', workload, '--plan', bad, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, violationCount: 1 });
  });

  it('names the file, field and fix for bad input', async () => {
    const hosts = join(dir, 'bad-fleet.json');
    writeFileSync(hosts, JSON.stringify({ hosts: [{ id: 'h1', region: 'eu', memory: '64GB', cores: 8 }] }));
    const result = await berth('sim', 'place', '--fleet', hosts, '--workload', workload, '--out', join(dir, 'x.json'));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('bad-fleet.json hosts[0].memory: "64GB" is not a size; write 64Gi (binary) or 64G (decimal)');
    const missing = await berth('sim', 'check', '--fleet', join(dir, 'nope.json'), '--workload', workload, '--plan', plan);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.json: no such file');
  });
});
