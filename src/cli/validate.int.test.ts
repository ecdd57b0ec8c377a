// The built binary end to end: compiles src/ (as `npm ci` does through `prepare`) and spawns
// `node bin/berth.js validate`, so a broken bin, build config or ESM path shows up here.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;

describe('bin/berth.js validate', () => {
  beforeAll(async () => {
    // tsc reports type errors on stdout; show them rather than a bare "Command failed"
    await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root }).catch(
      (error: { stdout?: string }) => {
        throw new Error(`npm run build failed:\n${error.stdout ?? String(error)}`);
      },
    );
  }, 120_000);

  it('exits 0 with a summary for a valid file and 1 with positions for an invalid one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-bin-'));
    writeFileSync(join(dir, 'berth.yaml'), 'services:\n  hello:\n    run: node server.js\n    http: { host: hello.localhost }\n');
    const ok = await run(process.execPath, [join(root, 'bin/berth.js'), 'validate'], { cwd: dir });
    expect(ok.stdout).toMatch(/^hello\s+replicas 1\s+memory 256Mi cpu 250m\s+http hello\.localhost\/ per-connection\n$/);

    writeFileSync(join(dir, 'bad.yaml'), 'services:\n  hello:\n    run: node server.js\n    scale: { min: 3, max: 2, target: { rps: 10 } }\n');
    const failed = await run(process.execPath, [join(root, 'bin/berth.js'), 'validate', '-f', 'bad.yaml'], { cwd: dir }).then(
      () => expect.fail('validate should exit 1'),
      (error: { code: number; stderr: string }) => error,
    );
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe('bad.yaml:4:19 services.hello.scale.min: min 3 is above max 2; lower min or raise max\n1 error in bad.yaml\n');
  });
});
