// `berth edge` as its user meets it: what is printed and the exit code when a flag is wrong or a
// port cannot be had, and that nothing keeps polling or listening after such a failure.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../agent/port-allocator.js';
import { EdgeListenError } from '../edge/edge.js';
import { listenFailure } from './listen-failure.js';
import { canListen, expectCleanFailure as expectOneLineFailure, holdPort, runBerth, type CliRun } from './run-cli.fixture.js';

const TOKEN = 'berth_edge_s3cret-token-for-tests';

/** A control plane that answers the first route poll with an empty table and counts every poll. */
class FakeControlPlane {
  readonly polls: string[] = [];
  readonly authorizations: string[] = [];
  private readonly server = http.createServer((req, res) => {
    this.polls.push(req.url ?? '');
    this.authorizations.push(req.headers.authorization ?? '');
    if (req.url?.startsWith('/v1/edge/routes?after=-1')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ version: 1, routes: [] }));
      return;
    }
    // later polls and metrics: nothing new (a real control plane would hold the poll)
    setTimeout(() => res.writeHead(204).end(), 200);
  });
  url = '';

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A failure the way a user should see it: one line naming the flag, exit 1, no stack, no token. */
function expectCleanFailure(run: CliRun, message: string): void {
  expectOneLineFailure(run, message);
  expect(run.stderr + run.stdout).not.toContain(TOKEN);
}

describe('berth edge', () => {
  let dir: string;
  let controlPlane: FakeControlPlane;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-edge-cli-'));
    controlPlane = await new FakeControlPlane().start();
  });

  afterEach(async () => {
    await controlPlane.close();
    await rm(dir, { recursive: true, force: true });
  });

  const edge = (...args: string[]) => runBerth('edge', '--control-plane', controlPlane.url, '--token', TOKEN, '--data', join(dir, 'edge'), ...args);

  it('says which flag is missing or wrong, and how to fix it', async () => {
    const token = process.env.BERTH_TOKEN;
    delete process.env.BERTH_TOKEN;
    try {
      expectCleanFailure(await runBerth('edge', '--control-plane', 'http://127.0.0.1:1'), '--token is missing; pass an edge-scoped token with --token or set BERTH_TOKEN');
    } finally {
      if (token !== undefined) process.env.BERTH_TOKEN = token;
    }
    expectCleanFailure(await edge('--listen', 'here'), '--listen "here" is not a listen address; write :8080 or 127.0.0.1:8080');
  });

  it('wants an http:// or https:// control plane URL with a host, and shows it written right', async () => {
    const run = (url: string) => runBerth('edge', '--control-plane', url, '--token', TOKEN, '--listen', '127.0.0.1:0', '--data', join(dir, 'edge'));
    // `localhost:` parses as a URL scheme: this one used to start and log failed polls forever
    expectCleanFailure(await run('localhost:7070'), '--control-plane "localhost:7070" is not an http:// or https:// URL with a host; write http://localhost:7070');
    expectCleanFailure(await run('10.0.0.2:7070'), '--control-plane "10.0.0.2:7070" is not an http:// or https:// URL with a host; write http://10.0.0.2:7070');
    expectCleanFailure(await run('ftp://10.0.0.2:7070'), '--control-plane "ftp://10.0.0.2:7070" is not an http:// or https:// URL with a host; write http://10.0.0.2:7070');
    expectCleanFailure(await run('nope'), '--control-plane "nope" is not an http:// or https:// URL with a host; write http://nope');
    expectCleanFailure(await run('http://'), '--control-plane "http://" is not an http:// or https:// URL with a host; write http://10.0.0.2:7070');
    // a password in the URL is never echoed: it may be the token
    expectCleanFailure(await run(`http://edge:${TOKEN}@10.0.0.2:7070`), '--control-plane carries a user name or password; write http://10.0.0.2:7070 and pass the token with --token or BERTH_TOKEN');
    expectCleanFailure(await run(`ftp://edge:${TOKEN}@10.0.0.2:7070`), '--control-plane carries a user name or password; write http://10.0.0.2:7070 and pass the token with --token or BERTH_TOKEN');
    expectCleanFailure(await run(`edge:${TOKEN}@10.0.0.2:7070`), '--control-plane carries a user name or password; write http://10.0.0.2:7070 and pass the token with --token or BERTH_TOKEN');
  });

  it('names --listen when its port is in use, and exits without polling the control plane', async () => {
    const held = await holdPort();
    try {
      expectCleanFailure(await edge('--listen', `127.0.0.1:${held.port}`), `--listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`);
      // a poll started before the bind would have reached the control plane by now
      await sleep(300);
      expect(controlPlane.polls).toEqual([]);
    } finally {
      await held.close();
    }
  });

  it('names --listen for an address this machine lacks or a host that does not resolve', async () => {
    expectCleanFailure(await edge('--listen', '203.0.113.7:8080'), '--listen 203.0.113.7:8080: this machine has no address 203.0.113.7; write one of its addresses, or :8080 for every address');
    expectCleanFailure(await edge('--listen', 'edge.invalid:8080'), '--listen edge.invalid:8080: the host "edge.invalid" does not resolve; write an address of this machine, or :8080 for every address');
    expect(controlPlane.polls).toEqual([]);
  });

  it('names --metrics-listen for a bad value, a port in use, a missing address or host, and frees --listen again', async () => {
    expectCleanFailure(await edge('--listen', '127.0.0.1:0', '--metrics-listen', 'metrics'), '--metrics-listen "metrics" is not a listen address; write :8080 or 127.0.0.1:8080');
    expectCleanFailure(await edge('--listen', '127.0.0.1:0', '--metrics-listen', ':99999'), '--metrics-listen ":99999" is not a listen address; write :8080 or 127.0.0.1:8080');
    expectCleanFailure(
      await edge('--listen', '127.0.0.1:0', '--metrics-listen', '203.0.113.7:9090'),
      '--metrics-listen 203.0.113.7:9090: this machine has no address 203.0.113.7; write one of its addresses, or :9090 for every address',
    );
    expectCleanFailure(
      await edge('--listen', '127.0.0.1:0', '--metrics-listen', 'metrics.invalid:9090'),
      '--metrics-listen metrics.invalid:9090: the host "metrics.invalid" does not resolve; write an address of this machine, or :9090 for every address',
    );
    const held = await holdPort();
    const listen = await freePort();
    try {
      expectCleanFailure(
        await edge('--listen', `127.0.0.1:${listen}`, '--metrics-listen', `127.0.0.1:${held.port}`),
        `--metrics-listen 127.0.0.1:${held.port}: the port is in use; stop what holds it or pick another port`,
      );
      // the HTTP listener bound first; it is closed again, and nothing polled
      expect(await canListen(listen)).toBe(true);
      await sleep(300);
      expect(controlPlane.polls).toEqual([]);
    } finally {
      await held.close();
    }
  });

  it('names --trust-proxy for an entry that is no address or CIDR range, before listening', async () => {
    const listen = await freePort();
    const run = (...list: string[]) => edge('--listen', `127.0.0.1:${listen}`, ...list.flatMap((l) => ['--trust-proxy', l]));
    expectCleanFailure(await run('10.0.0.0/33'), '--trust-proxy "10.0.0.0/33" is not a CIDR range: an IPv4 prefix is /0 to /32; write e.g. 10.0.0.0/8');
    expectCleanFailure(await run('nope'), '--trust-proxy "nope" is not an IP address or CIDR range; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1');
    // a repeated flag adds to the list, and every entry is checked
    expectCleanFailure(await run('10.0.0.0/8', '127.0.0.1,lb.internal'), '--trust-proxy "lb.internal" is not an IP address or CIDR range; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1');
    expectCleanFailure(await run(''), '--trust-proxy lists no proxy; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1');
    // the PROXY protocol from anyone, trusted by nobody, would let any client name any address
    expectCleanFailure(
      await edge('--listen', `127.0.0.1:${listen}`, '--proxy-protocol'),
      '--proxy-protocol needs --trust-proxy naming the load balancers that send the header (e.g. --trust-proxy 10.0.0.0/8): from anyone else it could name any client',
    );
    expect(await canListen(listen)).toBe(true);
    await sleep(300);
    expect(controlPlane.polls).toEqual([]);
  });

  it('names a timeout flag that is no duration, zero or too long, before listening', async () => {
    const listen = await freePort();
    const run = (...args: string[]) => edge('--listen', `127.0.0.1:${listen}`, ...args);
    expectCleanFailure(await run('--request-timeout', '30'), '--request-timeout: "30" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m');
    expectCleanFailure(await run('--idle-timeout', '0s'), '--idle-timeout 0s: must be above 0; write e.g. 30s');
    expectCleanFailure(await run('--tunnel-timeout', '30d'), '--tunnel-timeout 30d: at most 24d; write a shorter duration');
    expectCleanFailure(await run('--connect-timeout', 'soon'), '--connect-timeout: "soon" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m');
    expect(await canListen(listen)).toBe(true);
    expect(controlPlane.polls).toEqual([]);
  });

  it('explains a port this user may not listen on (EACCES; a test run as root cannot provoke it)', () => {
    const denied = (port: number) =>
      new EdgeListenError('listen', { host: '0.0.0.0', port }, Object.assign(new Error(`listen EACCES: permission denied 0.0.0.0:${port}`), { code: 'EACCES' }));
    expect(listenFailure('--listen', ':80', denied(80)).message).toBe(
      '--listen :80: this user may not listen on port 80 (below 1024); pick a port above 1023, or run berth edge as root or with the CAP_NET_BIND_SERVICE capability',
    );
    expect(listenFailure('--metrics-listen', ':9090', denied(9090)).message).toBe('--metrics-listen :9090: this user may not listen on port 9090; pick another port');
  });

  it('names --data when the route table cannot be kept there, before listening', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const listen = await freePort();
    const run = await runBerth('edge', '--control-plane', controlPlane.url, '--token', TOKEN, '--listen', `127.0.0.1:${listen}`, '--data', join(file, 'edge'));
    expectCleanFailure(run, `--data ${join(file, 'edge')}: cannot keep the route table there (a file is in the way, not a directory); pass --data with a directory this user can write`);
    expectCleanFailure(
      await runBerth('edge', '--control-plane', controlPlane.url, '--token', TOKEN, '--listen', `127.0.0.1:${listen}`, '--data', file),
      `--data ${file}: cannot keep the route table there (a file is in the way, not a directory); pass --data with a directory this user can write`,
    );
    expect(controlPlane.polls).toEqual([]);
  });

  it('keeps the last route table in .berth/edge by default, and says so in its help', async () => {
    const help = await runBerth('edge', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout.replace(/\s+/g, ' ')).toContain('(default: ".berth/edge")');

    const cwd = process.cwd();
    process.chdir(dir);
    const signals = { SIGINT: new Set(process.listeners('SIGINT')), SIGTERM: new Set(process.listeners('SIGTERM')) };
    const running = runBerth('edge', '--control-plane', controlPlane.url, '--token', TOKEN, '--listen', '127.0.0.1:0');
    try {
      const saved = join(dir, '.berth', 'edge', 'routes.json');
      for (let tries = 0; !(await readFile(saved, 'utf8').then(() => true, () => false)); tries++) {
        expect(tries, `${saved} was not written within 10 s`).toBeLessThan(200);
        await sleep(50);
      }
      expect(JSON.parse(await readFile(saved, 'utf8'))).toMatchObject({ version: 1, routes: [] });
      expect(controlPlane.authorizations[0]).toBe(`Bearer ${TOKEN}`);
    } finally {
      process.chdir(cwd);
      // stop it as Ctrl-C would, calling only the edge's own handlers (not the test runner's)
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        for (const listener of process.listeners(signal)) {
          if (signals[signal].has(listener)) continue;
          process.removeListener(signal, listener);
          if (signal === 'SIGTERM') (listener as () => void)();
        }
      }
    }
    const run = await running;
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`the last table kept in ${join(dir, '.berth', 'edge', 'routes.json')}`);
    expect(run.stderr).toContain('berth edge: stopping');
    expect(run.stderr).not.toContain(TOKEN);
  });
});
