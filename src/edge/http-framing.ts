// Where HTTP/1.1 messages begin and end in a byte stream (RFC 9112 §6), without copying bodies.
// The edge reads both directions of every connection with it: requests (to route each one, add
// forwarding headers and move a connection between instances at a boundary) and answers (to
// know when one ends, and its status). Heads are parsed; bodies are only counted or walked.
import { Fifo } from './fifo.js';

export interface MessageHead {
  /** request method, '' for a response */
  readonly method: string;
  /**
   * request target, '' for a response. Decoded from `raw` when first read: read it during the
   * listener's onHead, while the bytes are lent (a socket's read buffer is reused after that).
   */
  readonly target: string;
  /** response status, 0 for a request */
  readonly status: number;
  readonly reason: string;
  /** Host header, lower case, without the port ('' when absent): what the edge routes by */
  readonly host: string;
  /** Host header as the client sent it, port and case kept ('' when absent): what X-Forwarded-Host carries */
  readonly authority: string;
  /** true for HTTP/1.1 and later: keep-alive unless `Connection: close` */
  readonly http11: boolean;
  readonly connectionClose: boolean;
  /** a request that asks to switch protocols (WebSocket) */
  readonly upgrade: boolean;
  /**
   * the head carries X-Forwarded-Proto, -Host or -Port, which the edge replaces (keeping a trusted
   * proxy's values), or Forwarded, which it drops (extends, from a trusted proxy)
   */
  readonly forwarded: boolean;
  /**
   * Where the Connection header line starts (its preceding CRLF) and ends in `raw`, when there
   * is exactly one; -1 otherwise. Lets the edge drop or replace it without re-reading the head.
   */
  readonly connectionLineStart: number;
  readonly connectionLineEnd: number;
  /** a request followed by a body (Content-Length above 0, or chunked) */
  readonly hasBody: boolean;
  /** header names and values in order (only when the parser collects them) */
  readonly headers: string[];
  /** the whole head, CRLFCRLF included: a view of the bytes pushed, lent as they are (copy what must outlive onHead) */
  readonly raw: Buffer;
}

export interface FramingListener {
  /** a complete head; `end` is the offset just past it in the chunk being pushed */
  onHead(head: MessageHead, end: number): void;
  /** body payload, de-chunked; only called when the parser decodes */
  onData?(chunk: Buffer, start: number, end: number): void;
  /** bytes after a head as they are on the wire (body, chunk framing, trailers) */
  onBytes?(chunk: Buffer, start: number, end: number): void;
  onMessageEnd(): void;
  /** the stream switched protocols: nothing after this point is HTTP */
  onTunnel?(): void;
  onError(message: string): void;
}

export const MAX_HEAD_BYTES = 32 * 1024;

const enum State {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  UntilClose,
  Tunnel,
  Dead,
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const CR = 13;
const LF = 10;

const NO_HEADERS: string[] = [];

/** Case-insensitive compare of the bytes at `at` against a lower-case ASCII name. */
function nameIs(raw: Buffer, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = raw[at + i]!;
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

function isHttp1(raw: Buffer, at: number): boolean {
  // "HTTP/1."
  return raw[at] === 72 && raw[at + 1] === 84 && raw[at + 2] === 84 && raw[at + 3] === 80 && raw[at + 4] === 47 && raw[at + 5] === 49 && raw[at + 6] === 46;
}

function digit(byte: number | undefined): number {
  return byte !== undefined && byte >= 48 && byte <= 57 ? byte - 48 : NaN;
}

/** A Content-Length value: plain digits, or a list of one repeated number (RFC 9110 §8.6); -1 otherwise. */
function decimal(raw: Buffer, from: number, to: number): number {
  let n = 0;
  if (to === from || to - from > 15) return to - from > 15 ? parseContentLength(raw.toString('latin1', from, to)) : -1;
  for (let i = from; i < to; i++) {
    const d = digit(raw[i]);
    if (Number.isNaN(d)) return parseContentLength(raw.toString('latin1', from, to));
    n = n * 10 + d;
  }
  return n;
}

/** Whether `raw` holds `bytes` at `at`; in JS, as hosts are short and a native compare costs more to call. */
function sameBytes(bytes: Buffer, raw: Buffer, at: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== raw[at + i]) return false;
  return true;
}

function hasToken(value: string, token: string): boolean {
  return value.toLowerCase().split(',').some((part) => part.trim() === token);
}

function lastCoding(value: string): string {
  const parts = value.toLowerCase().split(',');
  return parts[parts.length - 1]!.trim();
}

/**
 * A head as parsed; the target becomes a string, and the head a view of its own, only if someone
 * reads them (routing by path, errors; forwarding a request, rewriting an answer).
 */
class ParsedHead implements MessageHead {
  #target: string | undefined;
  #raw: Buffer | undefined;
  constructor(
    readonly method: string,
    private readonly targetFrom: number,
    private readonly targetTo: number,
    readonly status: number,
    readonly reason: string,
    readonly host: string,
    readonly authority: string,
    readonly http11: boolean,
    readonly connectionClose: boolean,
    readonly upgrade: boolean,
    readonly forwarded: boolean,
    readonly connectionLineStart: number,
    readonly connectionLineEnd: number,
    readonly hasBody: boolean,
    readonly headers: string[],
    private readonly bytes: Buffer,
    private readonly headEnd: number,
  ) {}

  /** A view of the head in the bytes it was read from, made when asked for (an answer's head is read past, mostly). */
  get raw(): Buffer {
    return (this.#raw ??= this.headEnd === this.bytes.length ? this.bytes : this.bytes.subarray(0, this.headEnd));
  }

  get target(): string {
    return (this.#target ??= this.bytes.toString('latin1', this.targetFrom, this.targetTo));
  }
}

export class HttpFraming {
  private state = State.Head;
  private carry: Buffer | undefined;
  private remaining = 0;
  /** a chunk-size or trailer line split over two pushes */
  private line = '';
  /** methods of requests whose responses have not started, to know which answers have no body */
  private readonly pendingMethods = new Fifo<string>();
  private sawHead = false;
  private lastHostBytes: Buffer | undefined;
  private lastHost = '';
  private lastAuthority = '';

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly listener: FramingListener,
    private readonly options: { collectHeaders?: boolean; decode?: boolean } = {},
  ) {}

  /**
   * The Host value, lower case, without its port. The requests of one connection nearly always
   * name the same host, so the last one is kept and compared byte for byte. The value as sent is
   * kept too (lastAuthority).
   */
  private hostOf(raw: Buffer, from: number, to: number): string {
    const last = this.lastHostBytes;
    if (last !== undefined && last.length === to - from && sameBytes(last, raw, from)) return this.lastHost;
    const authority = raw.toString('latin1', from, to);
    let host = authority;
    const portAt = host.lastIndexOf(':');
    // "[::1]:8080" keeps its brackets; only a trailing :port goes
    if (portAt >= 0 && host.indexOf(']', portAt) < 0) host = host.slice(0, portAt);
    host = host.toLowerCase();
    this.lastHostBytes = Buffer.from(raw.subarray(from, to));
    this.lastHost = host;
    this.lastAuthority = authority;
    return host;
  }

  /** Back to a fresh stream, for a parser reused on another connection. */
  reset(): void {
    this.state = State.Head;
    this.carry = undefined;
    this.remaining = 0;
    this.line = '';
    this.pendingMethods.takeAll();
    this.sawHead = false;
  }

  /** For a response parser: the method of the next request sent, so HEAD answers have no body. */
  expectResponseTo(method: string): void {
    this.pendingMethods.push(method);
  }

  /** Between messages (nothing partial buffered): the safe moment to close or switch. */
  get idle(): boolean {
    return this.state === State.Head && this.carry === undefined;
  }

  /** No more HTTP on this stream: the bytes after this point pass untouched. */
  get tunneled(): boolean {
    return this.state === State.Tunnel;
  }

  /** The peer closed: a body delimited by the close ends here; anything else partial is cut. */
  end(): void {
    if (this.state === State.UntilClose) {
      this.state = State.Head;
      this.listener.onMessageEnd();
    }
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const length = chunk.length;
    while (pos < length) {
      switch (this.state) {
        case State.Head:
          pos = this.head(chunk, pos);
          break;
        case State.Length: {
          const take = Math.min(this.remaining, length - pos);
          this.body(chunk, pos, pos + take, true);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) this.messageEnd();
          break;
        }
        case State.ChunkSize:
        case State.Trailers:
          pos = this.chunkLine(chunk, pos);
          break;
        case State.ChunkData: {
          const take = Math.min(this.remaining, length - pos);
          this.body(chunk, pos, pos + take, true);
          pos += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = State.ChunkDataEnd;
            this.remaining = 2;
          }
          break;
        }
        case State.ChunkDataEnd: {
          // the CRLF after chunk data, byte by byte since it may be split between pushes
          const expected = this.remaining === 2 ? CR : LF;
          if (chunk[pos] !== expected) {
            this.fail('chunk data not followed by CRLF');
            return;
          }
          this.body(chunk, pos, pos + 1, false);
          pos++;
          this.remaining--;
          if (this.remaining === 0) this.state = State.ChunkSize;
          break;
        }
        case State.UntilClose:
        case State.Tunnel:
          this.body(chunk, pos, length, true);
          pos = length;
          break;
        case State.Dead:
          return;
      }
    }
  }

  private body(chunk: Buffer, start: number, end: number, payload: boolean): void {
    if (end <= start) return;
    this.listener.onBytes?.(chunk, start, end);
    if (payload && this.options.decode) this.listener.onData?.(chunk, start, end);
  }

  private fail(message: string): void {
    this.state = State.Dead;
    this.carry = undefined;
    this.listener.onError(message);
  }

  private failed(message: string): -1 {
    this.fail(message);
    return -1;
  }

  private messageEnd(): void {
    this.state = State.Head;
    this.listener.onMessageEnd();
  }

  /** Returns the new position; a head split over pushes is carried until its end arrives. */
  private head(chunk: Buffer, pos: number): number {
    let bytes: Buffer;
    // where the bytes start in this chunk's coordinates (before it, for carried bytes)
    let shift: number;
    if (this.carry === undefined) {
      // a client may send CRLFs between messages (RFC 9112 §2.2)
      while (pos < chunk.length && (chunk[pos] === CR || chunk[pos] === LF) && this.kind === 'request') pos++;
      if (pos === chunk.length) return pos;
      bytes = pos === 0 ? chunk : chunk.subarray(pos);
      shift = pos;
    } else {
      bytes = Buffer.concat([this.carry, chunk.subarray(pos)]);
      shift = pos - this.carry.length;
    }
    // a head arriving in pieces is parsed once its end is there, not again at every piece (the
    // carry has no end in it, or it would have been parsed)
    const whole = this.carry === undefined || bytes.indexOf(CRLFCRLF, Math.max(0, this.carry.length - 3)) >= 0;
    const length = whole ? this.parseHead(bytes, shift) : 0;
    if (length > 0) return shift + length;
    if (length === 0) {
      if (bytes.length > MAX_HEAD_BYTES) this.fail(`head larger than ${MAX_HEAD_BYTES} bytes`);
      // kept past this push: out of the chunk, which is only lent for the call
      else this.carry = this.carry === undefined ? Buffer.from(bytes) : bytes;
    }
    return chunk.length;
  }

  /**
   * Reads a head straight from its bytes, in one pass that also finds where it ends: only the
   * fields framing and routing need become strings. Line ends must be CRLF: a bare CR or LF is
   * where two parsers start to disagree. Returns the head's length once it is complete and
   * handed on, 0 while it is incomplete, -1 when it failed.
   */
  private parseHead(bytes: Buffer, shift: number): number {
    const size = bytes.length;
    let firstEnd = 0;
    for (; firstEnd < size; firstEnd++) {
      const c = bytes[firstEnd]!;
      if (c <= CR && (c === CR || c === LF)) break;
    }
    if (firstEnd + 1 >= size) return 0;
    if (bytes[firstEnd] !== CR || bytes[firstEnd + 1] !== LF) return this.failed('bare CR or LF in the head');
    const raw = bytes;
    let method = '';
    let targetFrom = 0;
    let targetTo = 0;
    let status = 0;
    let reason = '';
    let http11: boolean;
    if (this.kind === 'request') {
      let a = 0;
      while (a < firstEnd && raw[a] !== 32) a++;
      let b = firstEnd - 1;
      while (b > a && raw[b] !== 32) b--;
      if (a <= 0 || a >= firstEnd || b <= a || firstEnd - b !== 9 || !isHttp1(raw, b + 1)) return this.failed(`malformed request line "${raw.toString('latin1', 0, Math.min(firstEnd, 64))}"`);
      method = a === 3 && raw[0] === 71 && raw[1] === 69 && raw[2] === 84 ? 'GET' : raw.toString('latin1', 0, a);
      targetFrom = a + 1;
      targetTo = b;
      http11 = raw[b + 8] !== 48; // HTTP/1.0
    } else {
      if (firstEnd < 12 || !isHttp1(raw, 0) || raw[8] !== 32) return this.failed(`malformed status line "${raw.toString('latin1', 0, Math.min(firstEnd, 64))}"`);
      http11 = raw[7] !== 48;
      status = digit(raw[9]) * 100 + digit(raw[10]) * 10 + digit(raw[11]);
      if (!(status >= 100 && status <= 999) || (firstEnd > 12 && raw[12] !== 32)) return this.failed(`malformed status line "${raw.toString('latin1', 0, Math.min(firstEnd, 64))}"`);
      if (this.options.collectHeaders === true && firstEnd > 13) reason = raw.toString('latin1', 13, firstEnd);
    }
    let host = '';
    let authority = '';
    let hostLines = 0;
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection = '';
    let upgradeHeader = false;
    let forwarded = false;
    let connectionLines = 0;
    let keepAlive = false;
    let closeToken = false;
    let connectionLineStart = -1;
    let connectionLineEnd = -1;
    const collect = this.options.collectHeaders === true;
    const headers: string[] = collect ? [] : NO_HEADERS;
    let pos = firstEnd + 2;
    let headEnd: number;
    for (;;) {
      if (pos + 1 >= size) return 0;
      if (raw[pos] === CR) {
        // the blank line that ends the head
        if (raw[pos + 1] !== LF) return this.failed('bare CR in the head');
        headEnd = pos + 2;
        break;
      }
      // one pass over the line in JS (a native indexOf per delimiter costs more than the bytes):
      // the name up to its colon, then the value up to CR. Both line ends are below 14, so most
      // bytes cost one comparison
      let next = pos;
      for (; next < size; next++) {
        const c = raw[next]!;
        if (c === 58 || (c <= CR && (c === CR || c === LF))) break;
      }
      const colon = raw[next] === 58 ? next : -1;
      if (colon >= 0) {
        for (next++; next < size; next++) {
          const c = raw[next]!;
          if (c <= CR && (c === CR || c === LF)) break;
        }
      }
      if (next >= size) return 0;
      if (raw[next] === LF) return this.failed('bare LF in the head');
      if (next + 1 >= size) return 0;
      if (raw[next + 1] !== LF) return this.failed('bare CR in the head');
      const first = raw[pos]!;
      // obsolete line folding lets two parsers disagree on headers (RFC 9112 §5.2)
      if (first === 32 || first === 9) return this.failed('folded header line');
      if (colon <= pos) return this.failed('malformed header line');
      // "Content-Length : 5" is ignored by some parsers and read by others (RFC 9112 §5.1)
      const last = raw[colon - 1]!;
      if (last === 32 || last === 9) return this.failed('whitespace before a header colon');
      let from = colon + 1;
      let to = next;
      while (from < to && (raw[from] === 32 || raw[from] === 9)) from++;
      while (to > from && (raw[to - 1] === 32 || raw[to - 1] === 9)) to--;
      switch (colon - pos) {
        case 4:
          if (nameIs(raw, pos, 'host')) {
            // the edge would route by one and the instance read the other (RFC 9112 §3.2: a 400)
            if (hostLines++ > 0) return this.failed('more than one Host header');
            host = this.hostOf(raw, from, to);
            authority = this.lastAuthority;
          }
          break;
        case 7:
          if (nameIs(raw, pos, 'upgrade')) upgradeHeader = true;
          break;
        case 9:
          if (nameIs(raw, pos, 'forwarded')) forwarded = true;
          break;
        case 10:
          if (nameIs(raw, pos, 'connection')) {
            connectionLines++;
            connectionLineStart = pos - 2;
            connectionLineEnd = next;
            // the two common values are read from the bytes; anything else becomes a string
            if (to - from === 10 && nameIs(raw, from, 'keep-alive')) keepAlive = true;
            else if (to - from === 5 && nameIs(raw, from, 'close')) closeToken = true;
            else {
              const value = raw.toString('latin1', from, to);
              connection = connection === '' ? value : `${connection},${value}`;
            }
          }
          break;
        case 14:
          if (nameIs(raw, pos, 'content-length')) {
            const length = decimal(raw, from, to);
            if (length < 0 || (contentLength >= 0 && length !== contentLength)) return this.failed(`invalid Content-Length "${raw.toString('latin1', from, Math.min(to, from + 32))}"`);
            contentLength = length;
          }
          break;
        case 16:
          if (nameIs(raw, pos, 'x-forwarded-host') || nameIs(raw, pos, 'x-forwarded-port')) forwarded = true;
          break;
        case 17:
          if (nameIs(raw, pos, 'transfer-encoding')) {
            const value = raw.toString('latin1', from, to);
            transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
          } else if (nameIs(raw, pos, 'x-forwarded-proto')) forwarded = true;
          break;
      }
      if (collect) headers.push(raw.toString('latin1', pos, colon), raw.toString('latin1', from, to));
      pos = next + 2;
    }
    if (headEnd > MAX_HEAD_BYTES) return this.failed(`head larger than ${MAX_HEAD_BYTES} bytes`);
    this.carry = undefined;
    const end = shift + headEnd;
    const connectionClose = closeToken || (connection !== '' ? hasToken(connection, 'close') : !http11 && !keepAlive);
    const upgrade = upgradeHeader && connection !== '' && hasToken(connection, 'upgrade');
    const head = new ParsedHead(
      method,
      targetFrom,
      targetTo,
      status,
      reason,
      host,
      authority,
      http11,
      connectionClose,
      upgrade,
      forwarded,
      connectionLines === 1 ? connectionLineStart : -1,
      connectionLines === 1 ? connectionLineEnd : -1,
      this.kind === 'request' && (transferEncoding !== undefined || contentLength > 0),
      headers,
      bytes,
      headEnd,
    );
    if (this.kind === 'request') this.requestFraming(head, contentLength, transferEncoding, end);
    else this.responseFraming(head, contentLength, transferEncoding, end);
    return headEnd;
  }

  private requestFraming(head: MessageHead, contentLength: number, transferEncoding: string | undefined, end: number): void {
    // both framings at once is how requests are smuggled past a proxy (RFC 9112 §6.1)
    if (transferEncoding !== undefined && contentLength >= 0) return this.fail('both Transfer-Encoding and Content-Length');
    if (transferEncoding !== undefined && lastCoding(transferEncoding) !== 'chunked') return this.fail(`Transfer-Encoding "${transferEncoding.slice(0, 32)}" does not end in chunked`);
    this.sawHead = true;
    this.listener.onHead(head, end);
    if (this.state === State.Dead) return;
    if (head.upgrade || head.method === 'CONNECT') {
      // what follows is the new protocol once the instance agrees; it is not HTTP to us either way
      this.state = State.Tunnel;
      this.listener.onMessageEnd();
      this.listener.onTunnel?.();
      return;
    }
    if (transferEncoding !== undefined) this.state = State.ChunkSize;
    else if (contentLength > 0) {
      this.state = State.Length;
      this.remaining = contentLength;
    } else this.messageEnd();
  }

  private responseFraming(head: MessageHead, contentLength: number, transferEncoding: string | undefined, end: number): void {
    const status = head.status;
    if (status === 101) {
      this.listener.onHead(head, end);
      this.state = State.Tunnel;
      this.listener.onMessageEnd();
      this.listener.onTunnel?.();
      return;
    }
    if (status < 200) {
      // an interim answer (100 Continue, 103 Early Hints): the real one follows
      this.listener.onHead(head, end);
      return;
    }
    const method = this.pendingMethods.shift() ?? '';
    this.listener.onHead(head, end);
    if (this.state === State.Dead) return;
    if (method === 'CONNECT' && status < 300) {
      this.state = State.Tunnel;
      this.listener.onMessageEnd();
      this.listener.onTunnel?.();
      return;
    }
    if (method === 'HEAD' || status === 204 || status === 304) return this.messageEnd();
    if (transferEncoding !== undefined) {
      this.state = lastCoding(transferEncoding) === 'chunked' ? State.ChunkSize : State.UntilClose;
    } else if (contentLength >= 0) {
      if (contentLength === 0) return this.messageEnd();
      this.state = State.Length;
      this.remaining = contentLength;
    } else this.state = State.UntilClose;
  }

  /** A chunk-size line or a trailer line; returns the new position. */
  private chunkLine(chunk: Buffer, pos: number): number {
    const lf = chunk.indexOf(LF, pos);
    const stop = lf < 0 ? chunk.length : lf + 1;
    this.body(chunk, pos, stop, false);
    this.line += chunk.toString('latin1', pos, stop);
    if (this.line.length > 4096) {
      this.fail('chunk line longer than 4096 bytes');
      return chunk.length;
    }
    if (lf < 0) return chunk.length;
    if (!this.line.endsWith('\r\n') || this.line.indexOf('\r') !== this.line.length - 2) {
      this.fail('chunk line not ended by CRLF');
      return chunk.length;
    }
    const line = this.line.slice(0, -2);
    this.line = '';
    if (this.state === State.Trailers) {
      if (line === '') this.messageEnd();
      return stop;
    }
    const semicolon = line.indexOf(';');
    const hex = (semicolon < 0 ? line : line.slice(0, semicolon)).trim();
    if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) {
      this.fail(`invalid chunk size "${hex.slice(0, 16)}"`);
      return chunk.length;
    }
    const size = parseInt(hex, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
    return stop;
  }

  /** Whether any head was seen (a connection closed before its first request is not an error). */
  get started(): boolean {
    return this.sawHead;
  }
}

/** -1 when not a plain decimal (or a list of one repeated decimal, as RFC 9110 §8.6 allows). */
function parseContentLength(value: string): number {
  let result = -1;
  for (const part of value.split(',')) {
    const text = part.trim();
    if (!/^\d{1,15}$/.test(text)) return -1;
    const n = Number(text);
    if (result >= 0 && n !== result) return -1;
    result = n;
  }
  return result;
}

/** Every line of one header in a raw head, trimmed and joined by commas (RFC 9110 §5.3); undefined when there is none. */
export function headerValues(raw: Buffer, lowerName: string): string | undefined {
  let values: string | undefined;
  let pos = raw.indexOf(LF) + 1;
  while (pos > 0 && pos < raw.length - 2) {
    const next = raw.indexOf(CR, pos);
    if (next < 0) break;
    if (raw[pos + lowerName.length] === 58 && nameIs(raw, pos, lowerName)) {
      const value = raw.toString('latin1', pos + lowerName.length + 1, next).trim();
      values = values === undefined ? value : `${values},${value}`;
    }
    pos = next + 2;
  }
  return values;
}

/** The value of one header in a raw head (the first, trimmed), for the rare reads routing needs. */
export function headerValue(raw: Buffer, lowerName: string): string | undefined {
  let pos = raw.indexOf(LF) + 1;
  while (pos > 0 && pos < raw.length - 2) {
    const next = raw.indexOf(CR, pos);
    if (next < 0) return undefined;
    if (raw[pos + lowerName.length] === 58 && nameIs(raw, pos, lowerName)) return raw.toString('latin1', pos + lowerName.length + 1, next).trim();
    pos = next + 2;
  }
  return undefined;
}
