// `berth up`'s flags as its user meets them: a wrong one is one line and exit 1, before anything starts.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runBerth } from './run-cli.fixture.js';

describe('berth up', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-up-cli-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names --edge-trust-proxy for an entry that is no address or CIDR range, before starting anything', async () => {
    const data = join(dir, 'data');
    for (const [list, message] of [
      ['10.0.0.0/33', '"10.0.0.0/33" is not a CIDR range: an IPv4 prefix is /0 to /32; write e.g. 10.0.0.0/8'],
      ['nope', '"nope" is not an IP address or CIDR range; write addresses or CIDR ranges separated by commas, e.g. 10.0.0.0/8,127.0.0.1'],
    ]) {
      const run = await runBerth('up', '--data', data, '--listen', '127.0.0.1:0', '--edge-listen', '127.0.0.1:0', '--edge-trust-proxy', list!);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(`berth: --edge-trust-proxy ${message}\n`);
    }
    expect(existsSync(data)).toBe(false);
  });

  it('refuses --edge-proxy-protocol without --edge-trust-proxy, before starting anything', async () => {
    const data = join(dir, 'data');
    const run = await runBerth('up', '--data', data, '--listen', '127.0.0.1:0', '--edge-listen', '127.0.0.1:0', '--edge-proxy-protocol');
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      'berth: --edge-proxy-protocol needs --edge-trust-proxy naming the load balancers that send the header (e.g. --edge-trust-proxy 10.0.0.0/8): from anyone else it could name any client\n',
    );
    expect(existsSync(data)).toBe(false);
  });

  it('names --edge-listen when its port is in use: one line, exit 1, no stack trace', async () => {
    const held = net.createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    const port = (held.address() as net.AddressInfo).port;
    try {
      const run = await runBerth('up', '--data', join(dir, 'data'), '--listen', '127.0.0.1:0', '--edge-listen', `127.0.0.1:${port}`);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`berth: --edge-listen 127.0.0.1:${port}: the port is in use; stop what holds it or pick another port\n`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      held.close();
    }
  });
});
