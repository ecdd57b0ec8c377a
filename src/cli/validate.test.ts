import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBerth as berth } from './run-cli.fixture.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-validate-'));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const VALID = `services:
  hello:
    run: node server.js
    http: { host: hello.localhost }
    health:
      ready: { type: http, path: /healthz }
  worker:
    run: node worker.js
    resources: { memory: 1Gi, cpu: 2 }
    scale: { min: 0, max: 10, target: { metric: queue_depth, value: 100 } }
  db:
    run: postgres
    ports: [5432]
    tcp: { port: 15432 }
`;

const INVALID = `services:
  web:
    run: node server.js
    replica: 2
    resources:
      memory: 256MB
`;

describe('berth validate', () => {
  it('prints one summary line per service and exits 0', async () => {
    const result = await berth('validate', '-f', file('valid.yaml', VALID));
    expect(result).toEqual({
      code: 0,
      stderr: '',
      stdout: [
        'hello   replicas 1                      memory 256Mi cpu 250m  http hello.localhost/ per-connection',
        'worker  scale 0..10 on queue_depth 100  memory 1Gi cpu 2       no route',
        'db      replicas 1                      memory 256Mi cpu 250m  tcp :15432 (host ports 5432)',
        '',
      ].join('\n'),
    });
  });

  it('shows the routing mode the edge picks and each route setting that is not a default', async () => {
    const routes = `services:
  shop:
    run: node shop.js
    http:
      host: shop.localhost
      path: /cart
      affinity: cookie
      concurrency: { soft: 5, hard: 10 }
      queue: { limit: 0 }
  api:
    run: node api.js
    http: { host: api.localhost, mode: per-request, balancer: round-robin, affinity: { header: X-Tenant } }
  mail:
    run: node smtp.js
    tcp: { port: 2525, affinity: ip, concurrency: { hard: 100 }, queue: { limit: 20, timeout: 2s }, idleTimeout: 30m, proxyProtocol: v2 }
`;
    const result = await berth('validate', '-f', file('routes.yaml', routes));
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').map((line) => line.replace(/^.*cpu \S+\s+/, ''))).toEqual([
      'http shop.localhost/cart per-request, affinity cookie berth_affinity, soft 5 hard 10 requests, queue limit 0',
      'http api.localhost/ per-request, round-robin, affinity header X-Tenant',
      'tcp :2525, affinity ip, hard 100 connections, queue limit 20 timeout 2s, idle 30m, proxy protocol v2',
      '',
    ]);
  });

  it('prints every error as file:line:col path: problem; fix and exits 1', async () => {
    const path = file('invalid.yaml', INVALID);
    const result = await berth('validate', '-f', path);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `${path}:4:5 services.web.replica: unknown field; did you mean "replicas"?`,
        `${path}:6:15 services.web.resources.memory: "256MB" is not a size; write 256Mi (binary) or 256M (decimal)`,
        `2 errors in ${path}`,
        '',
      ].join('\n'),
    );
  });

  it('prints a YAML syntax error at its position, a repeated key with its path and name', async () => {
    const path = file('syntax.yaml', 'services:\n  web:\n    run: x\n    run: y\n');
    const result = await berth('validate', '-f', path);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`${path}:4:5 services.web.run: run is given twice in this map, first on line 3; remove one of them\n1 error in ${path}\n`);
    const indent = file('indent.yaml', 'services:\n  web:\n    run: x\n   replicas: 2\n');
    expect((await berth('validate', '-f', indent)).stderr).toBe(
      `${indent}:4:1 all mapping items must start at the same column; line it up with the fields beside it\n1 error in ${indent}\n`,
    );
  });

  it('prints a clash between services while one of them has another error', async () => {
    const path = file('clash.yaml', 'services:\n  api:\n    run: x\n    ports: [8080]\n  db:\n    run: x\n    ports: [8080]\n    resources: { memory: 1Mi }\n');
    const result = await berth('validate', '-f', path);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      [
        `${path}:7:13 services.db.ports[0]: port 8080 is also a fixed port of service api, and a host port holds one service; choose another port`,
        `${path}:8:26 services.db.resources.memory: "1Mi" is under the minimum of 4Mi; write at least 4Mi`,
        `2 errors in ${path}`,
        '',
      ].join('\n'),
    );
  });

  it('reads berth.yaml by default and says clearly when it is missing', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const result = await berth('validate');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('berth: berth.yaml: no such file; pass -f <path> or create berth.yaml (see docs/berth-yaml.md)\n');
    } finally {
      process.chdir(cwd);
    }
  });

  it('prints the parsed spec as JSON with --json', async () => {
    const result = await berth('validate', '--json', '-f', file('valid.yaml', VALID));
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout) as { version: number; services: Record<string, { resources: unknown }> };
    expect(parsed.version).toBe(1);
    expect(Object.keys(parsed.services)).toEqual(['hello', 'worker', 'db']);
    expect(parsed.services.worker?.resources).toEqual({ memory: 2 ** 30, cpu: 2000 });
  });

  it('prints the errors as JSON with --json', async () => {
    const path = file('invalid.yaml', INVALID);
    const result = await berth('validate', '--json', '-f', path);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      errors: [
        { file: path, line: 4, col: 5, path: 'services.web.replica', message: 'unknown field; did you mean "replicas"?' },
        {
          file: path,
          line: 6,
          col: 15,
          path: 'services.web.resources.memory',
          message: '"256MB" is not a size; write 256Mi (binary) or 256M (decimal)',
        },
      ],
    });
    const missing = await berth('validate', '--json', '-f', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ errors: [{ file: join(dir, 'nope.yaml'), message: expect.stringContaining('no such file') }] });
  });
});
