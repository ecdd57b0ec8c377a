// The PROXY protocol (HAProxy's, versions 1 and 2): a load balancer that passes TCP through (an
// L4 balancer: AWS NLB, HAProxy in `mode tcp`, Fly's and DigitalOcean's balancers) opens each
// connection with a header naming the client's address and the address the client connected to.
// Behind one, every connection comes from the balancer, so without the header the edge would
// give every request the balancer's address in X-Forwarded-For and pin every client to one
// instance under ip affinity.
//
// The edge reads the header only from peers it trusts (`--trust-proxy`), and only when told to
// (`--proxy-protocol`); from anyone else a connection's first bytes are the protocol's own, so a
// client cannot name itself another address. A trusted peer's connection without a valid header
// is closed: the balancer is misconfigured, and guessing would misattribute every request.
//
// https://www.haproxy.org/download/3.0/doc/proxy-protocol.txt
import net from 'node:net';
import type { ProxyProtocolVersion } from '../spec/route.js';

/** One end of the proxied connection. */
export interface ProxiedAddress {
  readonly address: string;
  readonly port: number;
}

export type ProxyHeader =
  /**
   * not all of the header has come yet: read more and ask again with all of it; `needs`, once
   * known (a v2 header's fixed part has come), is how many bytes the whole header takes
   */
  | { readonly kind: 'partial'; readonly needs?: number }
  | { readonly kind: 'invalid'; readonly message: string }
  /**
   * `length` bytes are the header; what follows is the connection's own. `source` and
   * `destination` are undefined for a connection the balancer made for itself (v2 LOCAL, a
   * health check) or one it could not name (v1 UNKNOWN, v2 UNSPEC or a UNIX socket): the peer
   * is then the client, as without the protocol.
   */
  | {
      readonly kind: 'complete';
      readonly length: number;
      readonly source?: ProxiedAddress;
      readonly destination?: ProxiedAddress;
      /** the client spoke TLS to the balancer (v2's PP2_TYPE_SSL with PP2_CLIENT_SSL set): its requests came over https */
      readonly tls?: boolean;
    };

const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** the longest v1 line, CRLF included (the specification's 107) */
const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_FIXED = 16;
const PARTIAL: ProxyHeader = { kind: 'partial' };

/** A header read whole (or refused), and the connection's bytes that came after it in the same reads. */
export type ReadHeader = { readonly header: Exclude<ProxyHeader, { kind: 'partial' }>; readonly rest: Buffer | undefined };

/**
 * The longest header read: a v2 header may declare up to 64 KiB of TLVs, but what balancers send
 * (addresses, ALPN, an authority, a unique id, TLS details) fits in a few hundred bytes, and
 * HAProxy itself reads a header into one 16 KiB buffer. A longer one is refused as invalid.
 */
export const MAX_PROXY_HEADER = 16 * 1024;

/** A connection's first bytes, chunk by chunk, until its header is whole; HTTP and TCP listeners alike. */
export class ProxyHeaderReader {
  /** copies of the chunks so far, while the header is incomplete */
  private chunks: Buffer[] | undefined;
  private size = 0;
  /** the whole header's length once known: until then the chunks are only kept, not read again */
  private needs = 0;

  /**
   * Adds a chunk; undefined while the header is incomplete. A chunk may be lent by its socket for
   * the call only: what is kept is a copy, and `rest` may be a view of the chunk. Each byte is
   * copied once while a v2 header comes in pieces (a v1 line is at most 107 bytes).
   */
  push(chunk: Buffer): ReadHeader | undefined {
    let bytes = chunk;
    if (this.chunks !== undefined) {
      this.chunks.push(Buffer.from(chunk));
      this.size += chunk.length;
      if (this.size < this.needs) return undefined;
      bytes = Buffer.concat(this.chunks, this.size);
    }
    const header = readProxyHeader(bytes);
    if (header.kind === 'partial') {
      // a concatenation is a copy already
      this.chunks = [bytes === chunk ? Buffer.from(chunk) : bytes];
      this.size = bytes.length;
      this.needs = header.needs ?? 0;
      return undefined;
    }
    this.chunks = undefined;
    return { header, rest: header.kind === 'complete' && header.length < bytes.length ? bytes.subarray(header.length) : undefined };
  }
}

/** The header at the start of `bytes` (everything read so far on the connection). */
export function readProxyHeader(bytes: Buffer): ProxyHeader {
  if (startsWith(bytes, V2_SIGNATURE)) return bytes.length < V2_SIGNATURE.length ? PARTIAL : readV2(bytes);
  if (startsWith(bytes, V1_PREFIX)) return bytes.length < V1_PREFIX.length ? PARTIAL : readV1(bytes);
  return invalid('the connection does not begin with a PROXY protocol header (v1 "PROXY ..." or the v2 signature)');
}

/** Whether `bytes` begins with `prefix`, or is a beginning of it. */
function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  const n = Math.min(bytes.length, prefix.length);
  return bytes.compare(prefix, 0, n, 0, n) === 0;
}

function invalid(message: string): ProxyHeader {
  return { kind: 'invalid', message };
}

function readV1(bytes: Buffer): ProxyHeader {
  const end = bytes.indexOf('\r\n', 0, 'latin1');
  if (end < 0 || end + 2 > V1_MAX) return bytes.length >= V1_MAX ? invalid(`a PROXY v1 line is at most ${V1_MAX} bytes with its CRLF`) : PARTIAL;
  const length = end + 2;
  const fields = bytes.toString('latin1', 0, end).split(' ');
  if (fields[1] === 'UNKNOWN') return { kind: 'complete', length };
  if (fields.length !== 6) return invalid('a PROXY v1 line is "PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>"');
  const [, family, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string, string];
  const version = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  if (version === 0) return invalid(`PROXY v1 family "${family}" is not TCP4, TCP6 or UNKNOWN`);
  // Node's isIP takes an IPv6 zone (fe80::1%eth0), which names no client and no URL can hold
  const address = (text: string): boolean => net.isIP(text) === version && !text.includes('%');
  if (!address(source) || !address(destination)) return invalid(`PROXY v1 addresses "${source}" and "${destination}" are not both IPv${version}`);
  const ports = [sourcePort, destinationPort].map(v1Port);
  if (ports[0] === undefined || ports[1] === undefined) return invalid(`PROXY v1 ports "${sourcePort}" and "${destinationPort}" are not both 0-65535`);
  return { kind: 'complete', length, source: { address: canonical(source), port: ports[0] }, destination: { address: canonical(destination), port: ports[1] } };
}

function v1Port(text: string): number | undefined {
  if (!/^(?:0|[1-9]\d{0,4})$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65_535 ? port : undefined;
}

function readV2(bytes: Buffer): ProxyHeader {
  if (bytes.length < V2_FIXED) return PARTIAL;
  const versionCommand = bytes[12]!;
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header has version ${versionCommand >> 4}, not 2`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`PROXY v2 command ${command} is neither LOCAL (0) nor PROXY (1)`);
  const length = V2_FIXED + bytes.readUInt16BE(14);
  if (length > MAX_PROXY_HEADER) return invalid(`PROXY v2 header declares ${length} bytes; the edge reads at most ${MAX_PROXY_HEADER}`);
  if (bytes.length < length) return { kind: 'partial', needs: length };
  // LOCAL: the balancer's own connection (a health check); its addresses, if any, are skipped
  if (command === 0) return { kind: 'complete', length };
  const family = bytes[13]! >> 4;
  const inet = family === 1 ? IPV4 : family === 2 ? IPV6 : undefined;
  // UNSPEC or a UNIX socket: no address the edge can use
  if (inet === undefined) return { kind: 'complete', length };
  // source address, destination address, source port, destination port
  const size = 2 * inet.bytes + 4;
  if (length - V2_FIXED < size) return invalid(`PROXY v2 ${inet.name} addresses take ${size} bytes`);
  const ports = V2_FIXED + 2 * inet.bytes;
  return {
    kind: 'complete',
    length,
    source: { address: inet.read(bytes, V2_FIXED), port: bytes.readUInt16BE(ports) },
    destination: { address: inet.read(bytes, V2_FIXED + inet.bytes), port: bytes.readUInt16BE(ports + 2) },
    tls: clientTls(bytes, V2_FIXED + size, length),
  };
}

/** v2's address families the edge reads: how long an address is, and how to write one */
interface Inet {
  readonly name: string;
  readonly bytes: number;
  read(bytes: Buffer, at: number): string;
}
const IPV4: Inet = { name: 'IPv4', bytes: 4, read: ipv4 };
const IPV6: Inet = { name: 'IPv6', bytes: 16, read: ipv6 };

const PP2_TYPE_SSL = 0x20;
const PP2_CLIENT_SSL = 0x01;

/** Whether the TLVs from `at` to `end` say the client connected over TLS; a malformed TLV list says nothing. */
function clientTls(bytes: Buffer, at: number, end: number): boolean {
  while (at + 3 <= end) {
    const type = bytes[at]!;
    const length = bytes.readUInt16BE(at + 1);
    if (at + 3 + length > end) return false;
    if (type === PP2_TYPE_SSL) return length >= 1 && (bytes[at + 3]! & PP2_CLIENT_SSL) !== 0;
    at += 3 + length;
  }
  return false;
}

function ipv4(bytes: Buffer, at: number): string {
  return `${bytes[at]}.${bytes[at + 1]}.${bytes[at + 2]}.${bytes[at + 3]}`;
}

function ipv6(bytes: Buffer, at: number): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(at + i).toString(16));
  return canonical(groups.join(':'));
}

/**
 * An address as the edge writes addresses: IPv6 compressed and lower case (as the WHATWG URL
 * parser serializes it), an IPv4-mapped IPv6 address as its IPv4 address (as clientAddress()
 * unwraps a peer's).
 */
function canonical(address: string): string {
  if (!address.includes(':')) return address;
  const compressed = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(compressed);
  if (mapped === null) return compressed;
  const high = parseInt(mapped[1]!, 16);
  const low = parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/**
 * The header the edge opens a connection to an instance with, on a route with `proxyProtocol`
 * (HAProxy's `send-proxy`, `send-proxy-v2`): `source` is the client, `destination` the address and
 * port the client connected to. v1 is a `PROXY TCP4|TCP6` line, v2 the binary PROXY command with
 * no TLVs. Two IPv4 addresses are written as IPv4, anything else as IPv6: an IPv4 client of an
 * edge on an IPv6 socket (or the other way) has its IPv4 address mapped (::ffff:a.b.c.d), as
 * HAProxy writes such a pair. An IPv4-mapped address, as a dual-stack socket names an IPv4 peer,
 * counts as IPv4, and an IPv6 zone (fe80::1%eth0) is left out: it means nothing to the instance.
 */
export function writeProxyHeader(version: ProxyProtocolVersion, source: ProxiedAddress, destination: ProxiedAddress): Buffer {
  const from = inetAddress(source.address);
  const to = inetAddress(destination.address);
  const six = !(net.isIPv4(from) && net.isIPv4(to));
  if (version === 'v1') {
    const text = (address: string): string => (six && net.isIPv4(address) ? `::ffff:${address}` : address);
    return Buffer.from(`PROXY ${six ? 'TCP6' : 'TCP4'} ${text(from)} ${text(to)} ${source.port} ${destination.port}\r\n`, 'latin1');
  }
  const size = six ? 36 : 12;
  const header = Buffer.alloc(V2_FIXED + size);
  V2_SIGNATURE.copy(header, 0);
  // version 2, command PROXY; TCP over IPv4 (0x11) or IPv6 (0x21)
  header[12] = 0x21;
  header[13] = six ? 0x21 : 0x11;
  header.writeUInt16BE(size, 14);
  const write = six ? writeIpv6 : writeIpv4;
  const bytes = six ? 16 : 4;
  write(from, header, V2_FIXED);
  write(to, header, V2_FIXED + bytes);
  header.writeUInt16BE(source.port, V2_FIXED + 2 * bytes);
  header.writeUInt16BE(destination.port, V2_FIXED + 2 * bytes + 2);
  return header;
}

/** An address as a socket or a PROXY header gives it, in the form canonical() writes, without a zone. */
function inetAddress(address: string): string {
  const bare = address.replace(/%.*$/, '');
  if (net.isIP(bare) === 0) throw new Error(`${JSON.stringify(address)} is not an IP address`);
  return canonical(bare);
}

function writeIpv4(address: string, into: Buffer, at: number): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) into[at + i] = Number(parts[i]);
}

/** Writes an IPv6 address (hex groups, as canonical() gives it) or an IPv4 one, mapped. */
function writeIpv6(address: string, into: Buffer, at: number): void {
  into.fill(0, at, at + 16);
  if (net.isIPv4(address)) {
    into.writeUInt16BE(0xffff, at + 10);
    writeIpv4(address, into, at + 12);
    return;
  }
  const [head = '', tail] = address.split('::');
  const groups = (text: string): number[] => (text === '' ? [] : text.split(':').map((group) => parseInt(group, 16)));
  const front = groups(head);
  const back = tail === undefined ? [] : groups(tail);
  front.forEach((group, i) => into.writeUInt16BE(group, at + 2 * i));
  back.forEach((group, i) => into.writeUInt16BE(group, at + 16 - 2 * (back.length - i)));
}
