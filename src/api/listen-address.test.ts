import { expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import { parseListenAddress } from './listen-address.js';

it('reads host:port, :port, port and [ipv6]:port', () => {
  expect(parseListenAddress('127.0.0.1:7070')).toEqual({ host: '127.0.0.1', port: 7070 });
  expect(parseListenAddress(':7070')).toEqual({ host: '127.0.0.1', port: 7070 });
  expect(parseListenAddress('7070')).toEqual({ host: '127.0.0.1', port: 7070 });
  expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
  expect(parseListenAddress('0.0.0.0:80')).toEqual({ host: '0.0.0.0', port: 80 });
});

it('names the flag and the fix for anything else', () => {
  expect(() => parseListenAddress('localhost:99999')).toThrow(ValidationError);
  expect(() => parseListenAddress('http://x:1')).toThrow(/--listen: "http:\/\/x:1" is not an address to listen on; write host:port/);
});
