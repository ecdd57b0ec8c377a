// What the edge tells the control plane: load every second (the autoscaler's input) and "wake
// this service" for a request held at zero. Over HTTP for `berth edge`; in-process for `berth up`.
import { BerthClient } from '../client/berth-client.js';
import { nodeHttpTransport, type TransportResponse } from '../client/transport.js';
import type { EdgeMetricsReport } from './metrics-report.js';

export interface ControlPlaneLink {
  pushMetrics(report: EdgeMetricsReport): Promise<void>;
  /** `queued`: requests held for the service now, a hint for how many instances to start */
  activate(service: string, queued: number, edge: string): Promise<void>;
}

/**
 * The control plane's HTTP API, with the edge's bearer token: load reports and activations go
 * through the shared client (BerthClient); the route table's long-poll, whose 204 and 401 the
 * edge reads itself, through `send`.
 */
export class HttpControlPlane implements ControlPlaneLink {
  readonly #base: string;
  readonly #client: BerthClient;

  constructor(
    base: string,
    private readonly token: string,
    timeoutMs = 5_000,
  ) {
    this.#base = base.replace(/\/+$/, '');
    this.#client = new BerthClient({ url: this.#base, token, timeoutMs });
  }

  async pushMetrics(report: EdgeMetricsReport): Promise<void> {
    await this.#client.pushEdgeMetrics(report);
  }

  async activate(service: string, queued: number, edge: string): Promise<void> {
    await this.#client.activate(service, { edge, queued });
  }

  /** A GET with the edge's token, over the client's transport (node:http, keep-alive). */
  get(path: string, signal: AbortSignal): Promise<TransportResponse> {
    return nodeHttpTransport({ method: 'GET', url: new URL(`${this.#base}${path}`), headers: { authorization: `Bearer ${this.token}`, accept: 'application/json' }, signal });
  }
}
