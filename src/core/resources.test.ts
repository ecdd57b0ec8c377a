import { describe, expect, it } from 'vitest';
import { add, fits, shortfall, subtract } from './resources.js';

describe('resources', () => {
  const gi = 2 ** 30;
  it('adds and subtracts', () => {
    expect(add({ memory: gi, cpu: 500 }, { memory: gi, cpu: 250 })).toEqual({ memory: 2 * gi, cpu: 750 });
    expect(subtract({ memory: 2 * gi, cpu: 750 }, { memory: gi, cpu: 250 })).toEqual({ memory: gi, cpu: 500 });
  });
  it('says which resource does not fit', () => {
    expect(fits({ memory: gi, cpu: 1000 }, { memory: gi, cpu: 1000 })).toBe(true);
    expect(shortfall({ memory: gi + 1, cpu: 0 }, { memory: gi, cpu: 1000 })).toBe('memory');
    expect(shortfall({ memory: 0, cpu: 1001 }, { memory: gi, cpu: 1000 })).toBe('cpu');
  });
});
