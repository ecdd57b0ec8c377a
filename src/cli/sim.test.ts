import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBerth as berth } from './run-cli.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-sim-'));

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
    expect(missing.stderr).toContain(
      `--fleet ${join(dir, 'nope.json')}: no such file; pass --fleet <path> of a fleet.json, or write one first with berth sim generate`,
    );
  });

  it('says where a file stops being JSON, and how to get a good one', async () => {
    const cut = join(dir, 'cut.json');
    writeFileSync(cut, '{"placements": [\n  {"service":\n');
    const result = await berth('sim', 'check', '--fleet', fleet, '--workload', workload, '--plan', cut);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `berth: ${cut}:2:14 is not JSON: the text ends early; fix it there, or write the file again with berth sim place --fleet sim/fleet.json --workload sim/workload.json --out sim/plan.json\n`,
    );
    writeFileSync(cut, '{\n  "placements": []\n  "unplaceable": []\n}');
    expect((await berth('sim', 'check', '--fleet', fleet, '--workload', workload, '--plan', cut)).stderr).toContain(
      `${cut}:3:3 is not JSON: expected ',' or '}' after property value; fix it there`,
    );
  });

  it('refuses counts and fractions that make no fleet, naming the flag, the value and the fix', async () => {
    const generate = (...flags: string[]) => berth('sim', 'generate', '--out', join(dir, 'g'), ...flags);
    const noHosts = await generate('--hosts', '0', '--instances', '10');
    expect(noHosts).toMatchObject({ code: 1, stdout: '' });
    expect(noHosts.stderr).toContain("option '--hosts <n>' argument '0' is invalid. 0 is below 1: a fleet needs at least one host; write e.g. --hosts 100");
    expect((await generate('--hosts', '5', '--instances', '-1')).stderr).toContain('-1 is below 0');
    expect((await generate('--hosts', '5', '--instances', '2.5')).stderr).toContain('"2.5" is not a whole number; write e.g. --instances 1000');
    expect((await generate('--hosts', '5', '--instances', '5', '--fill', '0')).stderr).toContain('0 asks for no memory');
    expect((await generate('--hosts', '5', '--instances', '5', '--fill', '70')).stderr).toContain('for 70% write --fill 0.7');
    const place = await berth('sim', 'place', '--fleet', fleet, '--workload', workload, '--candidates', '0', '--out', join(dir, 'x.json'));
    expect(place).toMatchObject({ code: 1 });
    expect(place.stderr).toContain("option '--candidates <n>' argument '0' is invalid. 0 is below 1");
  });
});
