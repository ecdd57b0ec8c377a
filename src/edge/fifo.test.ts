import fc from 'fast-check';
import { expect, it } from 'vitest';
import { Fifo } from './fifo.js';

it('behaves as an array queue through any mix of pushes, shifts and takeAlls, growing past its first room (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant('shift' as const), fc.constant('all' as const)), { maxLength: 200 }), (ops) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      for (const op of ops) {
        if (op === 'shift') expect(fifo.shift()).toBe(model.shift());
        else if (op === 'all') expect(fifo.takeAll()).toEqual(model.splice(0));
        else {
          fifo.push(op);
          model.push(op);
        }
        expect(fifo.length).toBe(model.length);
      }
    }),
    { numRuns: 500 },
  );
});
