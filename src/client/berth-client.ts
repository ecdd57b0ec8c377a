// The typed client of the berth API, shared by the agent, the CLI, MCP and the dashboard. Fetch
// only: no Node-specific transport. Every failure is a BerthError; an unreachable control plane
// is an UnavailableError, which callers retry with backoff.
import { UnavailableError } from '../core/errors.js';
import type {
  AssignmentSet,
  EnrollRequest,
  EnrollResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InstanceSecrets,
} from '../api/protocol/agent-protocol.js';
import type { CreateJoinToken, JoinToken } from '../api/protocol/join-token-protocol.js';
import { errorFromResponse } from './api-error.js';

export interface ClientOptions {
  /** http://127.0.0.1:7070 */
  readonly url: string;
  readonly token?: string;
  /** ms before a request (other than a long-poll) is given up */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Record<string, string | number | undefined>;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** statuses that are not errors and return undefined (404 for "not stored") */
  readonly allow?: readonly number[];
}

export class BerthClient {
  readonly url: string;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The same control plane with another token (an agent moves from its join token to its credential). */
  withToken(token: string): BerthClient {
    return new BerthClient({ url: this.url, token, timeoutMs: this.#timeoutMs, fetch: this.#fetch });
  }

  health = (signal?: AbortSignal): Promise<{ ok: boolean; version: string }> => this.#json('GET', '/v1/health', { ...(signal ? { signal } : {}) });

  createJoinToken = (body: CreateJoinToken = {}): Promise<JoinToken> => this.#json('POST', '/v1/join-tokens', { body });

  revokeJoinToken = async (id: string): Promise<void> => {
    await this.#send('DELETE', `/v1/join-tokens/${encodeURIComponent(id)}`, {});
  };

  /** With a join token as this client's token. */
  enroll = (body: EnrollRequest): Promise<EnrollResponse> => this.#json('POST', '/v1/agent/enroll', { body });

  heartbeat = (body: HeartbeatRequest, signal?: AbortSignal): Promise<HeartbeatResponse> =>
    this.#json('POST', '/v1/agent/heartbeat', { body, ...(signal ? { signal } : {}) });

  /** The host's set now, or with `after`, once it differs from that version (or `wait` ms pass). */
  assignments = (options: { after?: string; wait?: number; signal?: AbortSignal } = {}): Promise<AssignmentSet> => {
    const wait = options.wait ?? 25_000;
    return this.#json('GET', '/v1/agent/assignments', {
      query: { after: options.after, wait: options.after === undefined ? undefined : wait },
      ...(options.signal ? { signal: options.signal } : {}),
      timeoutMs: wait + this.#timeoutMs,
    });
  };

  instanceSecrets = (instance: string, signal?: AbortSignal): Promise<InstanceSecrets> =>
    this.#json('GET', `/v1/agent/instances/${encodeURIComponent(instance)}/secrets`, { ...(signal ? { signal } : {}) });

  /** The archive's bytes as a stream; the caller verifies the digest. */
  agentArtifact = async (digest: string, signal?: AbortSignal): Promise<ReadableStream<Uint8Array>> => {
    const response = await this.#send('GET', `/v1/agent/artifacts/${encodeURIComponent(digest)}`, { ...(signal ? { signal } : {}), timeoutMs: 10 * 60_000 });
    if (!response.body) throw new UnavailableError(`artifact ${digest}: the response had no body; retry`);
    return response.body;
  };

  hasArtifact = async (digest: string): Promise<boolean> =>
    (await this.#send('HEAD', `/v1/artifacts/${encodeURIComponent(digest)}`, { allow: [404] })).status === 200;

  putArtifact = (digest: string, archive: Uint8Array): Promise<{ digest: string; size: number; created: boolean }> =>
    this.#json('PUT', `/v1/artifacts/${encodeURIComponent(digest)}`, { body: archive, timeoutMs: 10 * 60_000 });

  openapi = (): Promise<Record<string, unknown>> => this.#json('GET', '/v1/openapi.json', {});

  async #json<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const response = await this.#send(method, path, options);
    return (await response.json()) as T;
  }

  async #send(method: string, path: string, options: RequestOptions): Promise<Response> {
    const url = new URL(this.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let body: RequestInit['body'];
    if (options.body instanceof Uint8Array) {
      body = options.body as Uint8Array<ArrayBuffer>;
      headers['content-type'] = 'application/gzip';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const what = `${method} ${path}`;
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, ...(body === undefined ? {} : { body }), signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (timeout.aborted ? 'timed out' : (error as Error).message);
      throw new UnavailableError(`${what}: cannot reach the control plane at ${this.url} (${cause}); is berth server running there?`, { url: this.url });
    }
    if (response.ok || options.allow?.includes(response.status)) return response;
    const text = await response.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: errorFromResponse says what answered
    }
    throw errorFromResponse(response.status, parsed, what);
  }
}
