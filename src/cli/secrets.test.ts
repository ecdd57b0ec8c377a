import { describe, expect, it } from 'vitest';
import { parsePairs, parseSecretsFile } from './secrets.js';

describe('secret input', () => {
  it('splits NAME=value at the first "=" and reads dotenv files', () => {
    expect(parsePairs(['A=x=y', 'B='], 'pair')).toEqual({ A: 'x=y', B: '' });
    expect(parseSecretsFile('# c\n\nexport A="q u"\nB=\'s\'\nC=plain\n', '.env')).toEqual({ A: 'q u', B: 's', C: 'plain' });
  });

  it('names the bad pair without its value', () => {
    expect(() => parsePairs(['A=1', 'bad-name=hunter2'], 'pair')).toThrow(/pair 2: "bad-name" is not an environment variable name/);
    expect(() => parsePairs(['hunter2'], 'pair')).toThrow(/pair 1: no "="; write NAME=value/);
    expect(() => parsePairs(['A=1', 'A=2'], 'pair')).toThrow(/A is given twice/);
    for (const input of [['bad-name=hunter2'], ['hunter2']]) expect(() => parsePairs(input, 'pair')).not.toThrow(/hunter2/);
  });
});
