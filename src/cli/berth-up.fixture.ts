// The real `bin/berth.js` for end-to-end tests, driven as a new user would: a tiny app in a
// temporary directory, `berth up` on 127.0.0.1 with its edge on a fixed free port, client
// commands against its data directory, requests through the edge, and a bounded load loop that
// counts failures. Every wait polls for a state under a generous deadline: no timing asserts.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { freePort } from '../agent/port-allocator.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { ServiceInfo } from '../api/protocol/service-protocol.js';

const run = promisify(execFile);
export const root = new URL('../..', import.meta.url).pathname;
export const bin = join(root, 'bin/berth.js');

/**
 * Answers `<version> <instance>` on /, 200 on /healthz unless version.txt says "broken", and on
 * /greeting the sha256 of $GREETING (or "unset"), so a test sees a secret arrive without it
 * crossing the wire.
 */
export const APP = `import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
const version = readFileSync(new URL('./version.txt', import.meta.url), 'utf8').trim();
const broken = version.includes('broken');
const server = createServer((req, res) => {
  if (req.url === '/healthz') { res.writeHead(broken ? 500 : 200).end(broken ? 'broken\\n' : 'ok\\n'); return; }
  if (req.url === '/greeting') {
    const greeting = process.env.GREETING;
    res.writeHead(200).end(greeting === undefined ? 'unset\\n' : \`\${createHash('sha256').update(greeting).digest('hex')}\\n\`);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(\`\${version} \${process.env.BERTH_INSTANCE}\\n\`);
});
server.listen(Number(process.env.PORT), () => console.log(\`hello \${version} listening on \${process.env.PORT}\`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

/**
 * One service of the test app in berth.yaml, with fast probes and rollouts; `count` is its
 * `replicas:` or `scale:` line.
 */
export const testService = (name: string, count: string, grace = '5s') => `  ${name}:
    run: node server.mjs
    resources: { memory: 64Mi, cpu: 0.1 }
    http: { host: ${name}.localhost }
    health:
      ready: { type: http, path: /healthz, interval: 300ms, timeout: 250ms, failures: 1 }
    ${count}
    deploy: { minHealthy: 1s, healthyDeadline: 8s }
    stop: { grace: ${grace} }
`;

export const berthYaml = (replicas: number) => `services:\n${testService('hello', `replicas: ${replicas}`)}`;


export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(200);
  }
}

/** `npm run build`, so bin/berth.js runs the code under test. */
export async function buildBerth(): Promise<void> {
  await run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root }).catch((error: { stdout?: string }) => {
    throw new Error(`npm run build failed:\n${error.stdout ?? String(error)}`);
  });
}

export type BerthResult = { stdout: string; stderr: string } | { failed: true; code: number | undefined; stdout: string; stderr: string };

export interface LoadResult {
  /** first word of each 200 body: the version that answered */
  readonly bodies: Set<string>;
  readonly failures: string[];
  total(): number;
  stop(): Promise<void>;
}

export interface RequestOptions {
  /** Host header the edge routes on */
  readonly host: string;
  readonly path?: string;
  /** a keep-alive agent reuses its connection; without one each request opens a new one */
  readonly agent?: http.Agent;
}

/** One `berth up` in `dir`: the app in `dir/app`, the data directory `dir/.berth`. */
export class BerthUp {
  readonly app: string;
  readonly data: string;
  /** picked on the first start and kept, so a restarted `berth up` serves at the same address */
  edgePort = 0;
  /** everything `berth up` wrote to stdout and stderr since it last started */
  log = '';
  #up: ChildProcess | undefined;

  constructor(readonly dir: string) {
    this.app = join(dir, 'app');
    this.data = join(dir, '.berth');
  }

  /** Builds berth and writes the app at v1 with `replicas` instances into `app`. */
  async prepare(replicas: number): Promise<void> {
    await buildBerth();
    mkdirSync(this.app);
    writeFileSync(join(this.app, 'server.mjs'), APP);
    writeFileSync(join(this.app, 'version.txt'), 'v1\n');
    writeFileSync(join(this.app, 'berth.yaml'), berthYaml(replicas));
  }

  /** A client command against this data directory; a non-zero exit is a result, not a throw. */
  berth(args: string[], cwd = this.app, env?: NodeJS.ProcessEnv): Promise<BerthResult> {
    return run(process.execPath, [bin, ...args, '--data', this.data], { cwd, timeout: 90_000, ...(env ? { env } : {}) }).catch(
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        failed: true as const,
        code: error.code,
        stdout: error.stdout ?? '',
        stderr: error.stderr ?? String(error),
      }),
    );
  }

  async berthJson(args: string[], cwd = this.app): Promise<unknown> {
    const result = await this.berth([...args, '--json'], cwd);
    if ('failed' in result) throw new Error(`berth ${args.join(' ')} failed: ${result.stderr}`);
    return JSON.parse(result.stdout) as unknown;
  }

  get apiUrl(): string {
    return readFileSync(join(this.data, 'api-url'), 'utf8').trim();
  }

  async apiGet(path: string): Promise<string> {
    const token = readFileSync(join(this.data, 'admin-token'), 'utf8').trim();
    const response = await fetch(this.apiUrl + path, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.text();
  }

  async service(name: string): Promise<ServiceInfo> {
    return JSON.parse(await this.apiGet(`/v1/services/${name}`)) as ServiceInfo;
  }

  /** One request through the edge on 127.0.0.1. */
  request(options: RequestOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = http.get(
        { host: '127.0.0.1', port: this.edgePort, path: options.path ?? '/', headers: { host: options.host }, agent: options.agent ?? false, timeout: 10_000 },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', reject);
    });
  }

  async start(args: string[], cwd: string): Promise<void> {
    if (this.edgePort === 0) this.edgePort = await freePort();
    this.log = '';
    const up = spawn(process.execPath, [bin, 'up', ...args, '--data', this.data, '--listen', '127.0.0.1:0', '--edge-listen', `127.0.0.1:${this.edgePort}`], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#up = up;
    up.stdout.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    up.stderr.on('data', (chunk: Buffer) => (this.log += chunk.toString()));
    await until('berth up to be up', async () => (this.log.includes('berth is up') ? true : up.exitCode !== null ? Promise.reject(new Error(this.log)) : undefined), 60_000);
  }

  /** Ctrl-C; resolves with the exit code. */
  async stop(): Promise<number | null> {
    const child = this.#up;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    return exited;
  }

  /** Distinct 200 bodies through the edge over `n` fresh connections. */
  async answering(n: number, options: RequestOptions): Promise<Set<string>> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) {
      const { status, body } = await this.request(options);
      if (status === 200) seen.add(body.trim());
    }
    return seen;
  }

  /**
   * Continuous requests from 4 clients (2 keep-alive, 2 a new connection each) until stopped or
   * `maxRequests` in all: bounded even when a failing test never stops it.
   */
  load(host: string, maxRequests = 20_000): LoadResult {
    let running = true;
    const bodies = new Set<string>();
    const failures: string[] = [];
    let total = 0;
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const client = async (agent?: http.Agent) => {
      while (running && total < maxRequests) {
        try {
          const { status, body } = await this.request({ host, ...(agent ? { agent } : {}) });
          total++;
          if (status === 200) bodies.add(body.trim().split(' ')[0]!);
          else failures.push(`${status} ${body.trim()}`);
        } catch (error) {
          total++;
          failures.push((error as Error).message);
        }
        await sleep(10);
      }
    };
    const clients = [client(keepAlive), client(keepAlive), client(), client()];
    return {
      bodies,
      failures,
      total: () => total,
      stop: async () => {
        running = false;
        await Promise.all(clients);
        keepAlive.destroy();
      },
    };
  }
}
