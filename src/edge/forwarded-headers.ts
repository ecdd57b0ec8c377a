// What the edge adds to requests on their way to an instance. X-Forwarded-Proto and -Host are
// the edge's alone (a client could otherwise claim to have come over https), unless the client
// is a trusted proxy (trusted-proxies.ts): then the first value it sent of each is kept, as it
// saw the request (its TLS, its Host). X-Forwarded-For keeps what the client sent and gets the
// address the edge saw appended, as a second field line (RFC 9110 §5.3: the same as a
// comma-separated list). `Forwarded` (RFC 7239) is neither read nor set: it passes as sent.
import { headerValue } from './http-framing.js';

/** The lines the edge adds, CRLF-terminated, for a client address, scheme and requested host. */
export function forwardedLines(clientAddress: string, proto: string, host: string): string {
  return `X-Forwarded-For: ${clientAddress}\r\nX-Forwarded-Proto: ${proto}\r\n${host === '' ? '' : `X-Forwarded-Host: ${host}\r\n`}`;
}

/** Drops the client's X-Forwarded-Proto and -Host lines from a raw head (rare: clients seldom send them). */
export function stripEdgeSetLines(head: string): string {
  return head.replace(/\r\nX-Forwarded-(?:Proto|Host):[^\r]*/gi, '');
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/;

/**
 * The scheme a trusted proxy says the client used: the first value of the first X-Forwarded-Proto
 * line, lower case (`https, http` → `https`: the proxy nearest the client spoke first). `http`
 * when there is none or it is no scheme.
 */
export function claimedProto(raw: Buffer): string {
  const proto = firstValue(headerValue(raw, 'x-forwarded-proto')).toLowerCase();
  return SCHEME.test(proto) ? proto : 'http';
}

/** The host a trusted proxy says the client asked for (first X-Forwarded-Host value), else `authority`, the Host header. */
export function claimedHost(raw: Buffer, authority: string): string {
  const host = firstValue(headerValue(raw, 'x-forwarded-host'));
  return host === '' ? authority : host;
}

function firstValue(value: string | undefined): string {
  if (value === undefined) return '';
  const comma = value.indexOf(',');
  return (comma < 0 ? value : value.slice(0, comma)).trim();
}

/** Client address without the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function clientAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
