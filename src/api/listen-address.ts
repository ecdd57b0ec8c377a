// `--listen 127.0.0.1:7070`, `:7070`, `7070` or `[::1]:7070`; port 0 takes any free port.
import { ValidationError } from '../core/errors.js';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

const DEFAULT_HOST = '127.0.0.1';

function split(text: string): { host: string; port: string } | undefined {
  if (/^\d+$/.test(text)) return { host: DEFAULT_HOST, port: text };
  const bracketed = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(text);
  if (bracketed) return { host: bracketed[1] ?? '', port: bracketed[2] ?? '' };
  const plain = /^([A-Za-z0-9.-]*):(\d+)$/.exec(text);
  if (plain) return { host: plain[1] || DEFAULT_HOST, port: plain[2] ?? '' };
  return undefined;
}

export function parseListenAddress(text: string, field = '--listen'): ListenAddress {
  const parts = split(text.trim());
  const port = Number(parts?.port);
  if (!parts || !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new ValidationError(`${field}: ${JSON.stringify(text)} is not an address to listen on; write host:port, e.g. 127.0.0.1:7070`);
  }
  return { host: parts.host, port };
}
