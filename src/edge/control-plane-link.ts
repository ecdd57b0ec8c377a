// What the edge tells the control plane: load every second (the autoscaler's input) and "wake
// this service" for a request held at zero. Over HTTP for `berth edge`; in-process for `berth up`.
import { nodeHttpTransport, type TransportResponse } from '../client/transport.js';
import type { EdgeMetricsReport } from './metrics-report.js';

export interface ControlPlaneLink {
  pushMetrics(report: EdgeMetricsReport): Promise<void>;
  /** `queued`: requests held for the service now, a hint for how many instances to start */
  activate(service: string, queued: number, edge: string): Promise<void>;
}

export class ControlPlaneError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ControlPlaneError';
  }
}

/** The control plane's HTTP API, with the edge's bearer token. */
export class HttpControlPlane implements ControlPlaneLink {
  readonly base: string;

  constructor(
    base: string,
    private readonly token: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.base = base.replace(/\/+$/, '');
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, ...extra };
  }

  async pushMetrics(report: EdgeMetricsReport): Promise<void> {
    await this.post('/v1/edge/metrics', report);
  }

  async activate(service: string, queued: number, edge: string): Promise<void> {
    await this.post(`/v1/services/${encodeURIComponent(service)}/activate`, { edge, queued });
  }

  /** A request with the edge's token, over the client's transport (node:http, keep-alive). */
  send(method: string, path: string, options: { body?: unknown; signal: AbortSignal }): Promise<TransportResponse> {
    const json = options.body !== undefined;
    return nodeHttpTransport({
      method,
      url: new URL(`${this.base}${path}`),
      headers: this.headers(json ? { accept: 'application/json', 'content-type': 'application/json' } : { accept: 'application/json' }),
      ...(json ? { body: JSON.stringify(options.body) } : {}),
      signal: options.signal,
    });
  }

  private async post(path: string, body: unknown): Promise<void> {
    const response = await this.send('POST', path, { body, signal: AbortSignal.timeout(this.timeoutMs) });
    // read the body whole so the connection can be reused
    const text = await response.text();
    if (response.status < 200 || response.status >= 300) throw new ControlPlaneError(`POST ${path}: ${response.status} ${text.slice(0, 200)}`, response.status);
  }
}
