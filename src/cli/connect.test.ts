import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConnection } from './connect.js';

describe('resolveConnection', () => {
  it('prefers flags, then the environment, then the data directory', async () => {
    const data = await mkdtemp(join(tmpdir(), 'berth-connect-'));
    await writeFile(join(data, 'api-url'), 'http://127.0.0.1:7070\n');
    await writeFile(join(data, 'admin-token'), 'berth_admin_x\n');
    expect(await resolveConnection({ data }, {})).toEqual({ url: 'http://127.0.0.1:7070', token: 'berth_admin_x' });
    expect(await resolveConnection({ data }, { BERTH_URL: 'http://10.0.0.1:1', BERTH_TOKEN: 't' })).toEqual({ url: 'http://10.0.0.1:1', token: 't' });
    expect(await resolveConnection({ data, url: 'http://h:2', token: 'f' }, { BERTH_URL: 'http://x:1' })).toEqual({ url: 'http://h:2', token: 'f' });
  });

  it('says how to find a berth when there is none', async () => {
    const data = await mkdtemp(join(tmpdir(), 'berth-connect-'));
    await expect(resolveConnection({ data }, {})).rejects.toThrow(/start one with berth up/);
    await expect(resolveConnection({ data, url: 'ftp://x' }, {})).rejects.toThrow(/--url: "ftp:\/\/x" is not an http\(s\) URL/);
    await expect(resolveConnection({ data, url: 'http://x:1' }, {})).rejects.toThrow(/no token for http:\/\/x:1/);
  });
});
