import { describe, expect, it } from 'vitest';
import { connectionProblem, redactUrl } from './open-store.js';

const failure = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

describe('connecting to Postgres', () => {
  const url = 'postgres://app:pw@db.internal:6543/berth';
  it('says what failed and what to check, for each way a connection fails', () => {
    expect(connectionProblem(url, failure('ENOTFOUND'))).toBe('host db.internal not found; check the host name in the URL');
    expect(connectionProblem(url, failure('28P01', 'password authentication failed for user "app"'))).toBe(
      'db.internal:6543 refused user "app" (password authentication failed for user "app"); check the user and password in the URL',
    );
    expect(connectionProblem(url, failure('3D000'))).toBe('database "berth" does not exist on db.internal:6543; create it (createdb) or fix its name in the URL');
    expect(connectionProblem('postgres://localhost/x', new Error('self-signed certificate\n    at …'))).toBe(
      'cannot connect to localhost:5432 (self-signed certificate); check the URL and that the server is running',
    );
  });
  it('never prints the password', () => {
    expect(redactUrl(url)).toBe('postgres://app:***@db.internal:6543/berth');
    expect(redactUrl('postgres://app@db/berth')).toBe('postgres://app@db/berth');
  });
});
