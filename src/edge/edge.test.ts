import { describe, expect, it } from 'vitest';
import { parseListen } from './edge.js';

describe('parseListen', () => {
  it('reads :port, host:port and [v6]:port', () => {
    expect(parseListen(':8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('8080')).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(parseListen('127.0.0.1:9090')).toEqual({ host: '127.0.0.1', port: 9090 });
    expect(parseListen('[::1]:9090')).toEqual({ host: '::1', port: 9090 });
  });

  it('says how to write a bad one', () => {
    expect(() => parseListen('localhost')).toThrow('"localhost" is not a listen address; write :8080 or 127.0.0.1:8080');
    expect(() => parseListen(':99999')).toThrow(/not a listen address/);
  });
});
