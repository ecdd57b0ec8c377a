// How the client's requests travel. berth's own processes (agent, edge, CLI) run on Node and use
// node:http, whose parser is native. `fetch` in Node is undici: loading it and compiling its
// WebAssembly parser costs a process ~18 MiB RSS (10 of them in the heap and V8's compiler zones,
// kept afterwards), which is a fifth of the agent's budget on a host (issue 4). Transport is the
// seam for a runtime without node:http (a browser would wrap fetch).
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';

export interface TransportRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string | Uint8Array;
  readonly signal: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  /** the whole body as text */
  text(): Promise<string>;
  /** the body as it arrives; read it once, instead of text() */
  chunks(): AsyncIterable<Uint8Array>;
}

/** Resolves once the response head is in; rejects when the server cannot be reached or the signal aborts. */
export type Transport = (request: TransportRequest) => Promise<TransportResponse>;

/** Keep-alive connections per control plane; an idle one is closed before servers close theirs (5 s in Node). */
const agents = { http: new Agent({ keepAlive: true, keepAliveMsecs: 1_000, timeout: 4_000 }), https: new HttpsAgent({ keepAlive: true, timeout: 4_000 }) };

export const nodeHttpTransport: Transport = ({ method, url, headers, body, signal }) =>
  new Promise((resolve, reject) => {
    const https = url.protocol === 'https:';
    const send = https ? httpsRequest : httpRequest;
    const outgoing = { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) };
    const req = send(url, { method, headers: outgoing, agent: https ? agents.https : agents.http, signal }, (res) => resolve(nodeResponse(res, signal)));
    // an abort says why (a TimeoutError from AbortSignal.timeout), not only that it happened
    req.once('error', (error) => reject(signal.aborted ? signal.reason : error));
    req.end(body);
  });

function nodeResponse(res: IncomingMessage, signal: AbortSignal): TransportResponse {
  return {
    status: res.statusCode ?? 0,
    async text() {
      const parts: Uint8Array[] = [];
      for await (const chunk of chunksOf(res, signal)) parts.push(chunk);
      return Buffer.concat(parts).toString('utf8');
    },
    chunks: () => chunksOf(res, signal),
  };
}

/** The body as it arrives; an abort ends it with the signal's reason (a TimeoutError says it timed out). */
async function* chunksOf(res: IncomingMessage, signal: AbortSignal): AsyncIterable<Uint8Array> {
  try {
    for await (const chunk of res) yield chunk as Buffer;
  } catch (error) {
    throw signal.aborted ? signal.reason : error;
  }
}

/** The values of an NDJSON body, one per non-empty line, in batches: those each chunk completes. */
export async function* ndjsonBatches<T>(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<T[], void, undefined> {
  const decoder = new TextDecoder();
  let partial = '';
  for await (const chunk of chunks) {
    const lines = (partial + decoder.decode(chunk, { stream: true })).split('\n');
    partial = lines.pop() ?? '';
    const values = lines.filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as T);
    if (values.length > 0) yield values;
  }
}
