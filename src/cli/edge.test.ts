import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.js';

describe('berth edge', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('says which flag is missing or wrong, and how to fix it', async () => {
    const errors: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((text) => {
      errors.push(String(text));
      return true;
    });
    const token = process.env.BERTH_TOKEN;
    delete process.env.BERTH_TOKEN;
    try {
      expect(await main(['node', 'berth', 'edge', '--control-plane', 'http://127.0.0.1:1'])).toBe(1);
      expect(errors.join('')).toContain('--token is missing; pass an edge-scoped token with --token or set BERTH_TOKEN');
      expect(await main(['node', 'berth', 'edge', '--control-plane', 'nope', '--token', 't'])).toBe(1);
      expect(errors.join('')).toContain('--control-plane "nope" is not a URL');
      expect(await main(['node', 'berth', 'edge', '--control-plane', 'http://127.0.0.1:1', '--token', 't', '--listen', 'here'])).toBe(1);
      expect(errors.join('')).toContain('--listen "here" is not a listen address; write :8080 or 127.0.0.1:8080');
    } finally {
      if (token !== undefined) process.env.BERTH_TOKEN = token;
    }
  });
});
