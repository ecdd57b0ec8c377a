import { describe, expect, it } from 'vitest';
import { ANSWER, engineDriver } from './engine-driver.js';

// bench:edge-engine measures engineDriver's `once`: if a change to the edge left a stand-in
// behind (a write held for a turn the loop never ends, say), it would time a path that sends
// nothing. Every request must reach the instance and every answer the client, whole.
describe('bench:edge-engine driver', () => {
  for (const mode of ['per-connection', 'per-request'] as const) {
    for (const close of [false, true]) {
      it(`${mode}${close ? ', Connection: close' : ''}: each request and answer goes through`, () => {
        const driver = engineDriver(mode, close);
        driver.once();
        const perRequest = driver.toInstance;
        const perAnswer = driver.toClient;
        // the request plus the edge's X-Forwarded-* lines
        expect(perRequest).toBeGreaterThan(100);
        // the answer as the instance gave it; under close, with its Connection line rewritten
        if (close) expect(Math.abs(perAnswer - ANSWER.length)).toBeLessThan(40);
        else expect(perAnswer).toBe(ANSWER.length);
        for (let i = 1; i < 100; i++) driver.once();
        expect(driver.toInstance).toBe(100 * perRequest);
        expect(driver.toClient).toBe(100 * perAnswer);
        expect(driver.closed).toBe(close ? 100 : 0);
      });
    }
  }
});
