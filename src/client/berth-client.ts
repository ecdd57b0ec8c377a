// The typed client of the berth API, shared by the agent, the edge and the CLI. Requests go
// through a Transport (./transport.ts), node:http unless another is given. Every
// failure is a BerthError; an unreachable control plane is an UnavailableError, which callers
// retry with backoff.
import { UnavailableError } from '../core/errors.js';
import type {
  AssignmentSet,
  DrainAnswer,
  EnrollRequest,
  EnrollResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  InstanceSecrets,
} from '../api/protocol/agent-protocol.js';
import type { CreateEdgeToken, EdgeToken } from '../api/protocol/edge-token-protocol.js';
import type { CreateJoinToken, JoinToken } from '../api/protocol/join-token-protocol.js';
import type {
  CreateRelease,
  PutService,
  ReleaseCreatedResponse,
  ReleaseList,
  Resize,
  Rollback,
  ServiceInfo,
  ServiceList,
} from '../api/protocol/service-protocol.js';
import type { ActivateRequest, ActivateResponse, EdgeMetrics, ExternalMetricRequest, ExternalMetricResponse } from '../api/protocol/load-protocol.js';
import type { ScaleView, SetScale, StartBurst } from '../api/protocol/scale-protocol.js';
import type { CordonRequest, DrainRequest, HostList, HostSummary } from '../api/protocol/host-protocol.js';
import type { LogBatch, LogBatchReply, LogEntry, LogRequests } from '../api/protocol/log-protocol.js';
import type { SecretList, SecretsChanged, SetSecrets } from '../api/protocol/secret-protocol.js';
import type { Explanation, ServiceStatusInfo, StatusInfo } from '../api/protocol/status-protocol.js';
import { errorOfResponse } from './api-error.js';
import { ndjsonBatches, nodeHttpTransport, type Transport, type TransportResponse } from './transport.js';

export interface ClientOptions {
  /** http://127.0.0.1:7070 */
  readonly url: string;
  readonly token?: string;
  /** ms before a request (other than a long-poll) is given up */
  readonly timeoutMs?: number;
  /** node:http unless given */
  readonly transport?: Transport;
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
  readonly #transport: Transport;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#transport = options.transport ?? nodeHttpTransport;
  }

  /** The same control plane with another token (an agent moves from its join token to its credential). */
  withToken(token: string): BerthClient {
    return new BerthClient({ url: this.url, token, timeoutMs: this.#timeoutMs, transport: this.#transport });
  }

  health = (signal?: AbortSignal): Promise<{ ok: boolean; version: string }> => this.#json('GET', '/v1/health', { ...(signal ? { signal } : {}) });

  createJoinToken = (body: CreateJoinToken = {}): Promise<JoinToken> => this.#json('POST', '/v1/join-tokens', { body });

  createEdgeToken = (body: CreateEdgeToken = {}): Promise<EdgeToken> => this.#json('POST', '/v1/edge-tokens', { body });

  revokeJoinToken = async (id: string): Promise<void> => {
    await (await this.#send('DELETE', `/v1/join-tokens/${encodeURIComponent(id)}`, {})).text();
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

  /** Whether every live edge is done with these instances of the host, which the agent is about to stop. */
  drains = (instances: readonly string[], signal?: AbortSignal): Promise<DrainAnswer> =>
    this.#json('POST', '/v1/agent/drains', { body: { instances }, ...(signal ? { signal } : {}) });

  instanceSecrets = (instance: string, signal?: AbortSignal): Promise<InstanceSecrets> =>
    this.#json('GET', `/v1/agent/instances/${encodeURIComponent(instance)}/secrets`, { ...(signal ? { signal } : {}) });

  /** The archive's bytes as a stream; the caller verifies the digest. */
  agentArtifact = async (digest: string, signal?: AbortSignal): Promise<AsyncIterable<Uint8Array>> =>
    (await this.#send('GET', `/v1/agent/artifacts/${encodeURIComponent(digest)}`, { ...(signal ? { signal } : {}), timeoutMs: 10 * 60_000 })).chunks();

  hasArtifact = async (digest: string): Promise<boolean> => {
    const response = await this.#send('HEAD', `/v1/artifacts/${encodeURIComponent(digest)}`, { allow: [404] });
    await response.text();
    return response.status === 200;
  };

  putArtifact = (digest: string, archive: Uint8Array): Promise<{ digest: string; size: number; created: boolean }> =>
    this.#json('PUT', `/v1/artifacts/${encodeURIComponent(digest)}`, { body: archive, timeoutMs: 10 * 60_000 });

  services = (): Promise<ServiceList> => this.#json('GET', '/v1/services', {});

  service = (name: string): Promise<ServiceInfo> => this.#json('GET', `/v1/services/${encodeURIComponent(name)}`, {});

  /** Creates the service or changes its spec (given as in berth.yaml); no release. */
  putService = (name: string, body: PutService): Promise<ServiceInfo> => this.#json('PUT', `/v1/services/${encodeURIComponent(name)}`, { body });

  deleteService = async (name: string): Promise<void> => {
    await (await this.#send('DELETE', `/v1/services/${encodeURIComponent(name)}`, {})).text();
  };

  releases = (name: string): Promise<ReleaseList> => this.#json('GET', `/v1/services/${encodeURIComponent(name)}/releases`, {});

  /** A release of an uploaded archive, rolled out; creates the service when `spec` is given and it is new. */
  createRelease = (name: string, body: CreateRelease): Promise<ReleaseCreatedResponse> =>
    this.#json('POST', `/v1/services/${encodeURIComponent(name)}/releases`, { body });

  rollback = (name: string, body: Rollback = {}): Promise<ReleaseCreatedResponse> =>
    this.#json('POST', `/v1/services/${encodeURIComponent(name)}/rollback`, { body });

  /** Vertical scaling: memory and CPU per instance, rolled out as a new release. */
  resize = (name: string, body: Resize): Promise<ReleaseCreatedResponse> =>
    this.#json('POST', `/v1/services/${encodeURIComponent(name)}/resources`, { body });

  /** Scale spec, current and pending counts, and the last `decisions` autoscale decisions. */
  scale = (name: string, options: { decisions?: number } = {}): Promise<ScaleView> =>
    this.#json('GET', `/v1/services/${encodeURIComponent(name)}/scale`, { query: { decisions: options.decisions } });

  /** A fixed count; autoscaling stops. */
  setReplicas = (name: string, replicas: number): Promise<ScaleView> =>
    this.#json('PUT', `/v1/services/${encodeURIComponent(name)}/replicas`, { body: { replicas } });

  /** Autoscale bounds and target, as berth.yaml's `scale:`. */
  setScale = (name: string, scale: SetScale): Promise<ScaleView> => this.#json('PUT', `/v1/services/${encodeURIComponent(name)}/scale`, { body: scale });

  /** Autoscaling off: the current count stays, fixed. */
  scaleOff = (name: string): Promise<ScaleView> => this.#json('DELETE', `/v1/services/${encodeURIComponent(name)}/scale`, {});

  startBurst = (name: string, burst: StartBurst): Promise<ScaleView> => this.#json('POST', `/v1/services/${encodeURIComponent(name)}/burst`, { body: burst });

  endBurst = (name: string): Promise<ScaleView> => this.#json('DELETE', `/v1/services/${encodeURIComponent(name)}/burst`, {});

  /** An external metric's current total for the service (queue depth). */
  pushMetric = (name: string, body: ExternalMetricRequest): Promise<ExternalMetricResponse> =>
    this.#json('POST', `/v1/services/${encodeURIComponent(name)}/metrics`, { body });

  /** With an edge token: this edge's load report (read only: the edge keeps its own). */
  pushEdgeMetrics = async (report: Omit<EdgeMetrics, 'services'> & { readonly services: readonly EdgeMetrics['services'][number][] }): Promise<void> => {
    await (await this.#send('POST', '/v1/edge/metrics', { body: report })).text();
  };

  /** With an edge token: wake a service at zero. */
  activate = (name: string, body: ActivateRequest): Promise<ActivateResponse> =>
    this.#json('POST', `/v1/services/${encodeURIComponent(name)}/activate`, { body });

  status = (): Promise<StatusInfo> => this.#json('GET', '/v1/status', {});

  serviceStatus = (name: string): Promise<ServiceStatusInfo> => this.#json('GET', `/v1/status/${encodeURIComponent(name)}`, {});

  /** The first broken link of desired -> placed -> running -> ready -> routed, with its evidence. */
  explain = (name: string): Promise<Explanation> => this.#json('GET', `/v1/services/${encodeURIComponent(name)}/explain`, { timeoutMs: 60_000 });

  hosts = (): Promise<HostList> => this.#json('GET', '/v1/hosts', {});

  host = (ref: string): Promise<HostSummary> => this.#json('GET', `/v1/hosts/${encodeURIComponent(ref)}`, {});

  cordonHost = (ref: string, body: CordonRequest = {}): Promise<HostSummary> => this.#json('POST', `/v1/hosts/${encodeURIComponent(ref)}/cordon`, { body });

  uncordonHost = (ref: string): Promise<HostSummary> => this.#json('POST', `/v1/hosts/${encodeURIComponent(ref)}/uncordon`, {});

  drainHost = (ref: string, body: DrainRequest = {}): Promise<HostSummary> => this.#json('POST', `/v1/hosts/${encodeURIComponent(ref)}/drain`, { body });

  /** Refused while the host holds volumes or runs instances; revokes its credential. */
  decommissionHost = (ref: string): Promise<HostSummary> => this.#json('POST', `/v1/hosts/${encodeURIComponent(ref)}/decommission`, {});

  /** Values go in once; nothing that comes back holds one. */
  setSecrets = (service: string, secrets: Record<string, string>): Promise<SecretsChanged> =>
    this.#json('PUT', `/v1/services/${encodeURIComponent(service)}/secrets`, { body: { secrets } satisfies SetSecrets });

  secrets = (service: string): Promise<SecretList> => this.#json('GET', `/v1/services/${encodeURIComponent(service)}/secrets`, {});

  removeSecret = (service: string, name: string): Promise<SecretsChanged> =>
    this.#json('DELETE', `/v1/services/${encodeURIComponent(service)}/secrets/${encodeURIComponent(name)}`, {});

  /** Lines of a service's instances; with follow, until `signal` aborts. */
  logs = async function* (
    this: BerthClient,
    service: string,
    options: { instance?: string; since?: string; tail?: number; follow?: boolean; signal?: AbortSignal } = {},
  ): AsyncGenerator<LogEntry, void, undefined> {
    const response = await this.#send('GET', `/v1/services/${encodeURIComponent(service)}/logs`, {
      query: { instance: options.instance, since: options.since, tail: options.tail, follow: options.follow ? 'true' : undefined },
      ...(options.signal ? { signal: options.signal } : {}),
      // A follow lasts as long as the reader wants: only its signal ends it.
      timeoutMs: options.follow ? 2 ** 31 - 1 : 120_000,
    });
    try {
      for await (const entries of ndjsonBatches<LogEntry>(response.chunks())) yield* entries;
    } catch (error) {
      if (options.signal?.aborted) return;
      if ((error as Error).name === 'TimeoutError') throw new UnavailableError(`logs of ${service}: no end of the lines within 120 s; run berth logs again, with a smaller --tail`);
      throw new UnavailableError(`logs of ${service}: the stream broke (${(error as Error).message}); run berth logs again`);
    }
  };

  /** With a host credential: log requests for this host, held until one comes (long-poll). */
  logRequests = (options: { wait?: number; signal?: AbortSignal } = {}): Promise<LogRequests> => {
    const wait = options.wait ?? 25_000;
    return this.#json('GET', '/v1/agent/log-requests', { query: { wait }, ...(options.signal ? { signal: options.signal } : {}), timeoutMs: wait + this.#timeoutMs });
  };

  /** With a host credential: lines answering a log request; false when the reader wants no more. */
  sendLogBatch = async (id: string, batch: LogBatch, signal?: AbortSignal): Promise<boolean> =>
    (await this.#json<LogBatchReply>('POST', `/v1/agent/log-requests/${encodeURIComponent(id)}`, { body: batch, ...(signal ? { signal } : {}), timeoutMs: 5 * 60_000 })).more;

  openapi = (): Promise<Record<string, unknown>> => this.#json('GET', '/v1/openapi.json', {});

  async #json<T>(method: string, path: string, options: RequestOptions): Promise<T> {
    const response = await this.#send(method, path, options);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      throw new UnavailableError(`${method} ${path}: the answer from ${this.url} broke off (${(error as Error).message}); retry`, { url: this.url });
    }
    return JSON.parse(text) as T;
  }

  async #send(method: string, path: string, options: RequestOptions): Promise<TransportResponse> {
    const url = new URL(this.url + path);
    for (const [key, value] of Object.entries(options.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token !== undefined) headers.authorization = `Bearer ${this.#token}`;
    let body: string | Uint8Array | undefined;
    if (options.body instanceof Uint8Array) {
      body = options.body;
      headers['content-type'] = 'application/gzip';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const what = `${method} ${path}`;
    let response: TransportResponse;
    try {
      response = await this.#transport({ method, url, headers, ...(body === undefined ? {} : { body }), signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      // node:http names the code on the error, fetch on its cause
      const failure = error as { code?: string; cause?: { code?: string } };
      const cause = timeout.aborted ? 'timed out' : (failure.cause?.code ?? failure.code ?? (error as Error).message);
      throw new UnavailableError(`${what}: cannot reach the control plane at ${this.url} (${cause}); is berth server running there?`, { url: this.url });
    }
    if ((response.status >= 200 && response.status < 300) || options.allow?.includes(response.status)) return response;
    throw await errorOfResponse(response, what);
  }
}
