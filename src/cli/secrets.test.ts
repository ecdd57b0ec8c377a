import { describe, expect, it } from 'vitest';
import { parsePairs, parseSecretsFile } from './secrets.js';

describe('secret input', () => {
  it('splits NAME=value at the first "=" and reads dotenv files', () => {
    expect(parsePairs(['A=x=y', 'B='], 'pair')).toEqual({ A: 'x=y', B: '' });
    expect(parseSecretsFile('# c\n\nexport A="q u"\nB=\'s\'\nC=plain\n', '.env')).toEqual({ A: 'q u', B: 's', C: 'plain' });
  });

  it('takes a bare NAME from the environment variable of that name, on the command line only', () => {
    const env = { API_KEY: 'k=1', EMPTY: '' };
    expect(parsePairs(['API_KEY', 'EMPTY', 'B=2'], 'secret', env)).toEqual({ API_KEY: 'k=1', EMPTY: '', B: '2' });
    expect(() => parsePairs(['B=2', 'MISSING'], 'secret', env)).toThrow(
      'secret 2: the environment variable MISSING is not set; export it first (in bash: read -rs MISSING && export MISSING) or give a file with --from-file',
    );
    expect(() => parsePairs(['API_KEY', 'API_KEY=x'], 'secret', env)).toThrow(/secret 2: API_KEY is given twice/);
    // a file's line without "=" is a mistake, not a reference to the environment
    expect(() => parseSecretsFile('API_KEY\n', '.env')).toThrow(/\.env: entry 1: no "="; write NAME=value/);
  });

  it('treats names that objects inherit (constructor, toString) as names like any other', () => {
    expect(parsePairs(['constructor=c', 'toString=t'], 'secret')).toEqual({ constructor: 'c', toString: 't' });
    expect(() => parsePairs(['constructor=c', 'constructor=d'], 'secret')).toThrow(/secret 2: constructor is given twice/);
  });

  it('names the bad entry without its value', () => {
    expect(() => parsePairs(['A=1', 'bad-name=hunter2'], 'pair')).toThrow(/pair 2: "bad-name" is not an environment variable name/);
    expect(() => parsePairs(['hunter2'], 'pair')).toThrow(/pair 1: no "="; write NAME=value/);
    expect(() => parsePairs(['A=1', 'A=2'], 'pair')).toThrow(/A is given twice/);
    expect(() => parsePairs(['hunter-2!'], 'secret', {})).toThrow(/secret 1: neither NAME \(letters, digits and "_"\) nor NAME=value/);
    for (const input of [['bad-name=hunter2'], ['hunter2']]) expect(() => parsePairs(input, 'pair')).not.toThrow(/hunter2/);
    expect(() => parsePairs(['hunter-2!'], 'secret', {})).not.toThrow(/hunter-2/);
    // a token pasted alone fits the name syntax: it is not repeated back
    expect(() => parsePairs(['sk_live_abc123'], 'secret', {})).toThrow(/secret 1: no environment variable of that name is set/);
    expect(() => parsePairs(['sk_live_abc123'], 'secret', {})).not.toThrow(/sk_live/);
    // nor an upper-case key (an AWS access key id), unset or given twice
    expect(() => parsePairs(['AKIAIOSFODNN7EXAMPLE'], 'secret', {})).toThrow(/secret 1: no environment variable of that name is set/);
    expect(() => parsePairs(['AKIAIOSFODNN7EXAMPLE'], 'secret', {})).not.toThrow(/AKIA/);
    const twice = { AKIAIOSFODNN7EXAMPLE: 'x' };
    expect(() => parsePairs(['AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'], 'secret', twice)).toThrow(/secret 2: that name is given twice/);
    expect(() => parsePairs(['AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'], 'secret', twice)).not.toThrow(/AKIA/);
  });
});
