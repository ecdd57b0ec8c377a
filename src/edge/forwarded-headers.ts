// What the edge adds to requests on their way to an instance, and what it believes of what came
// with them. X-Forwarded-Proto, -Host and -Port are the edge's alone (a client could otherwise
// claim to have come over https), unless the client is a trusted proxy (trusted-proxies.ts): then
// the first value it sent of each is kept, as it saw the request (its TLS, its Host, its port).
// X-Forwarded-For keeps what the client sent and gets the address the edge saw appended, as a
// second field line (RFC 9110 §5.3: the same as a comma-separated list). `Forwarded` (RFC 7239)
// is dropped from anyone else; a trusted proxy's is passed on with the edge's own element added,
// and its `for=` is read for the client address where X-Forwarded-For is missing.
//
// A trusted proxy's `Forwarded` is never believed for the scheme or the host: nginx, HAProxy and
// Envoy set X-Forwarded-* and pass a client's `Forwarded` along untouched, so behind them every
// `proto=` and `host=` in it may be the client's own (an `https` it never used, another site's
// host), and nothing in the header says which element the proxy wrote.
import net from 'node:net';
import { headerValue, headerValues } from './http-framing.js';

/** The lines the edge adds, CRLF-terminated, for a client address, scheme, requested host and port ('' host or port: no line). */
export function forwardedLines(clientAddress: string, proto: string, host: string, port: string): string {
  return `X-Forwarded-For: ${clientAddress}\r\nX-Forwarded-Proto: ${proto}\r\n${host === '' ? '' : `X-Forwarded-Host: ${host}\r\n`}${port === '' ? '' : `X-Forwarded-Port: ${port}\r\n`}`;
}

const CLAIMS = /\r\nX-Forwarded-(?:Proto|Host|Port):[^\r]*/gi;
const CLAIMS_AND_FORWARDED = /\r\n(?:X-Forwarded-(?:Proto|Host|Port)|Forwarded):[^\r]*/gi;
const FORWARDED_LINE = /\r\nForwarded:/i;

/**
 * A raw head (CRLFCRLF included) without the client's X-Forwarded-Proto, -Host and -Port lines,
 * which the edge writes itself (rare: clients seldom send them). `Forwarded` lines go too, unless
 * the client is a trusted proxy, `trustedPeer`: then they stay and the edge's own element
 * follows them (`Forwarded: for=<peer>`), as its address follows X-Forwarded-For.
 */
export function rewriteForwarding(head: string, trustedPeer: string | undefined): string {
  if (trustedPeer === undefined) return head.replace(CLAIMS_AND_FORWARDED, '');
  const kept = head.replace(CLAIMS, '');
  return FORWARDED_LINE.test(kept) ? `${kept.slice(0, -2)}Forwarded: for=${forwardedNode(trustedPeer)}\r\n\r\n` : kept;
}

/** An address as a `Forwarded` node (RFC 7239 §6): an IPv6 one bracketed and quoted. */
export function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}

/** What a trusted proxy says of how the client reached it, with the edge's own values where it says nothing. */
export interface ProxyClaims {
  readonly proto: string;
  readonly host: string;
  readonly port: string;
}

/**
 * A trusted proxy's claims: each from the first value of its X-Forwarded-* header, else the edge's
 * own: `ownProto` (`http`, or `https` where a PROXY header said TLS), `authority` (the Host header)
 * and `port` (the edge's). The port, when the proxy names
 * none but claims a scheme or host, is the one the client's URL implied: the host's, else the
 * scheme's default (as Rails and Spring derive it), not the edge's.
 */
export function proxyClaims(raw: Buffer, authority: string, port: string, ownProto = 'http'): ProxyClaims {
  const claimed = scheme(firstValue(headerValue(raw, 'x-forwarded-proto')));
  const proto = claimed === '' ? ownProto : claimed;
  const host = hostValue(firstValue(headerValue(raw, 'x-forwarded-host')));
  let claimedPort = portValue(firstValue(headerValue(raw, 'x-forwarded-port')));
  if (claimedPort === '' && (claimed !== '' || host !== '')) claimedPort = portOf(host === '' ? authority : host) || defaultPort(proto);
  return { proto, host: host === '' ? authority : host, port: claimedPort === '' ? port : claimedPort };
}

/** The scheme a trusted proxy says the client used (as proxyClaims), for the affinity cookie's Secure without the rest. */
export function claimedProto(raw: Buffer): string {
  return scheme(firstValue(headerValue(raw, 'x-forwarded-proto'))) || 'http';
}

/** What the edge can check trust with (TrustedProxies). */
export interface ProxyTrust {
  trusts(address: string): boolean;
}

/**
 * The client behind a trusted proxy `peer`: walking the addresses the proxies recorded from the
 * right (nearest first), the first one not trusted, as nginx's `real_ip_recursive on` and
 * HAProxy do; the left-most when all are trusted. The list is X-Forwarded-For (every line), else
 * the `for=` of every `Forwarded` element. `peer` itself when there is neither, or when the walk
 * meets something that is no address (`unknown`, an obfuscated `_node`, a hostname, an element
 * without `for=`): past that point nothing can be checked. Addresses may carry a port
 * (`203.0.113.7:4711`, `[2001:db8::7]:4711`), which is dropped. Call it only for a trusted peer:
 * anyone else's list is not read at all.
 */
export function forwardedClient(raw: Buffer, peer: string, proxies: ProxyTrust): string {
  const list = headerValues(raw, 'x-forwarded-for');
  if (list !== undefined) {
    // from the right, without splitting what lies left of the answer
    let end = list.length;
    for (;;) {
      const comma = end === 0 ? -1 : list.lastIndexOf(',', end - 1);
      const address = nodeAddress(list.slice(comma + 1, end));
      if (address === undefined) return peer;
      if (comma < 0 || !proxies.trusts(address)) return address;
      end = comma;
    }
  }
  const elements = forwardedOf(raw);
  if (elements.length === 0) return peer;
  for (let i = elements.length - 1; i >= 0; i--) {
    const address = nodeAddress(elements[i]!.for ?? '');
    if (address === undefined) return peer;
    if (i === 0 || !proxies.trusts(address)) return address;
  }
  return peer;
}

/** The address in a node of X-Forwarded-For or `for=` (port dropped, IPv4-mapped IPv6 unwrapped, lower case); undefined when it holds none. */
export function nodeAddress(node: string): string | undefined {
  const text = node.trim();
  let address: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0 || !portOrNothing(text, close + 1)) return undefined;
    address = text.slice(1, close);
    if (net.isIP(address) !== 6) return undefined;
  } else {
    const colon = text.indexOf(':');
    if (colon >= 0 && colon === text.lastIndexOf(':')) {
      // a.b.c.d:port (IPv6 has at least two colons)
      if (!portOrNothing(text, colon)) return undefined;
      address = text.slice(0, colon);
      if (net.isIP(address) !== 4) return undefined;
    } else {
      address = text;
      if (net.isIP(address) === 0) return undefined;
    }
  }
  return clientAddress(address.toLowerCase());
}

/** `text` from `at` is nothing or `:port`. */
function portOrNothing(text: string, at: number): boolean {
  return at === text.length || (text.charCodeAt(at) === 58 && portValue(text.slice(at + 1)) !== '');
}

/** One element of a `Forwarded` header: the one parameter the edge reads (for the client address), unquoted. */
export interface ForwardedElement {
  for?: string;
}

const NO_ELEMENTS: readonly ForwardedElement[] = [];

/** The elements of every `Forwarded` line in a head; none when there is none or it does not parse. */
function forwardedOf(raw: Buffer): readonly ForwardedElement[] {
  const value = headerValues(raw, 'forwarded');
  return value === undefined ? NO_ELEMENTS : (forwardedElements(value) ?? NO_ELEMENTS);
}

/**
 * A `Forwarded` value (RFC 7239 §4: `for=192.0.2.60;proto=https, for="[2001:db8::7]:4711"`) as
 * its elements, in order; undefined when it does not parse (an unclosed quote, a pair without
 * `=`, a parameter twice in one element). Parameter names are case-insensitive; empty list
 * elements are skipped (RFC 9110 §5.6.1). Unquoted values are read up to `;`, `,` or a space,
 * a little more leniently than the token the RFC asks for: proxies write `host=a.example:8080`.
 */
export function forwardedElements(value: string): ForwardedElement[] | undefined {
  const elements: ForwardedElement[] = [];
  let element: ForwardedElement = {};
  let pairs = 0;
  const n = value.length;
  let i = 0;
  for (;;) {
    i = skipSpace(value, i);
    if (i < n && value[i] !== ',' && value[i] !== ';') {
      const nameFrom = i;
      while (i < n && TCHAR.test(value[i]!)) i++;
      if (i === nameFrom || value[i] !== '=') return undefined;
      const name = value.slice(nameFrom, i).toLowerCase();
      i++;
      let parameter = '';
      if (value[i] === '"') {
        for (i++; ; i++) {
          if (i >= n) return undefined;
          const c = value[i];
          if (c === '"') break;
          if (c === '\\') {
            i++;
            if (i >= n) return undefined;
          }
          parameter += value[i];
        }
        i++;
      } else {
        const from = i;
        while (i < n && value[i] !== ';' && value[i] !== ',' && !isSpace(value.charCodeAt(i))) i++;
        parameter = value.slice(from, i);
      }
      if (name === 'for') {
        // at most once per element (RFC 7239 §4); `proto=` and `host=` are never believed (top of file)
        if (element.for !== undefined) return undefined;
        element.for = parameter;
      }
      pairs++;
      i = skipSpace(value, i);
    }
    if (i >= n || value[i] === ',') {
      if (pairs > 0) elements.push(element);
      if (i >= n) return elements;
      element = {};
      pairs = 0;
    } else if (value[i] !== ';') return undefined;
    i++;
  }
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
/** what a Host may hold (RFC 3986 reg-name, IP literal, port): nothing that would read as two values or two lines */
const HOST = /^[A-Za-z0-9\-._~%!$&'()*+=:[\]]+$/;

/** a character of a token (RFC 9110 §5.6.2): what a parameter name is made of */
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const isSpace = (c: number): boolean => c === 32 || c === 9;

function skipSpace(value: string, i: number): number {
  while (i < value.length && isSpace(value.charCodeAt(i))) i++;
  return i;
}

/** A scheme in lower case, or '' when it is none. */
function scheme(value: string): string {
  const proto = value.toLowerCase();
  return SCHEME.test(proto) ? proto : '';
}

function hostValue(value: string): string {
  return HOST.test(value) ? value : '';
}

/** A port number 1 to 65535 as written, or ''. */
function portValue(value: string): string {
  if (!/^\d{1,5}$/.test(value)) return '';
  const port = Number(value);
  return port >= 1 && port <= 65_535 ? String(port) : '';
}

/** The port a Host value names ("a.example:8443", "[::1]:8443"), or ''. */
function portOf(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon < 0 || host.indexOf(']', colon) >= 0) return '';
  return portValue(host.slice(colon + 1));
}

const defaultPort = (proto: string): string => (proto === 'https' || proto === 'wss' ? '443' : '80');

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
