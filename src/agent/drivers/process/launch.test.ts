import { describe, expect, it } from 'vitest';
import { execForm } from './launch.js';

describe('execForm', () => {
  it('execs a simple command, so the app leads its process group', () => {
    expect(execForm('node server.js')).toBe('exec node server.js');
    expect(execForm('  ./bin/app --port=8080 ')).toBe('exec ./bin/app --port=8080');
    expect(execForm('NODE_ENV=production node server.js')).toBe('exec NODE_ENV=production node server.js');
  });
  it('leaves shell syntax and builtins as written', () => {
    for (const command of ['npm run build && node server.js', 'node server.js > out', 'exec node x', 'exit 3', "node -e 'x'", 'node $APP', 'cd app; ./run', 'FOO=1']) {
      expect(execForm(command)).toBe(command);
    }
  });
});
