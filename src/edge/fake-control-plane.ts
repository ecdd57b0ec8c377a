// A tiny control plane for the edge's tests and benchmarks: the three endpoints the edge calls,
// with the contract docs/edge.md gives the real API (src/api) to implement.
import http from 'node:http';
import type net from 'node:net';
import type { EdgeMetricsReport } from './metrics-report.js';
import type { RouteTableDocument } from './route-table.js';

export interface Activation {
  readonly service: string;
  readonly edge: string;
  readonly queued: number;
}

export class FakeControlPlane {
  private table: RouteTableDocument = { version: 0, routes: [], tcp: [] };
  private readonly polls = new Set<{ after: number; answer: () => void }>();
  readonly reports: EdgeMetricsReport[] = [];
  readonly activations: Activation[] = [];
  onActivate: (activation: Activation) => void = () => {};
  /** answers 503 to everything while set, as a control plane that is down */
  down = false;
  private server: http.Server | undefined;
  url = '';

  constructor(
    readonly token: string,
    private readonly holdMs = 30_000,
  ) {}

  async start(port = 0): Promise<string> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
    return this.url;
  }

  /** Publishes a table; held polls are answered at once. */
  publish(table: RouteTableDocument): void {
    this.table = table;
    for (const poll of [...this.polls]) if (poll.after !== table.version) poll.answer();
  }

  get current(): RouteTableDocument {
    return this.table;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://control-plane');
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (this.down) return json(503, { error: { code: 'unavailable', message: 'down for the test' } });
    if (req.headers.authorization !== `Bearer ${this.token}`) return json(401, { error: { code: 'unauthorized', message: 'a valid bearer token is required' } });
    if (req.method === 'GET' && url.pathname === '/v1/edge/routes') {
      const after = Number(url.searchParams.get('after') ?? '-1');
      if (this.table.version !== after) return json(200, this.table);
      const poll = {
        after,
        answer: () => {
          clearTimeout(timer);
          this.polls.delete(poll);
          if (this.table.version !== after) json(200, this.table);
          else res.writeHead(204).end();
        },
      };
      const timer = setTimeout(poll.answer, this.holdMs);
      this.polls.add(poll);
      res.on('close', () => {
        clearTimeout(timer);
        this.polls.delete(poll);
      });
      return;
    }
    const body = (): Promise<unknown> =>
      new Promise((resolve) => {
        let text = '';
        req.on('data', (chunk: Buffer) => (text += chunk.toString()));
        req.on('end', () => resolve(text === '' ? undefined : JSON.parse(text)));
      });
    if (req.method === 'POST' && url.pathname === '/v1/edge/metrics') {
      void body().then((report) => {
        this.reports.push(report as EdgeMetricsReport);
        res.writeHead(204).end();
      });
      return;
    }
    const activate = /^\/v1\/services\/([^/]+)\/activate$/.exec(url.pathname);
    if (req.method === 'POST' && activate !== null) {
      void body().then((data) => {
        const { edge, queued } = data as { edge: string; queued: number };
        const activation = { service: decodeURIComponent(activate[1]!), edge, queued };
        this.activations.push(activation);
        json(202, { service: activation.service, replicas: 1 });
        this.onActivate(activation);
      });
      return;
    }
    json(404, { error: { code: 'not_found', message: `${req.method} ${url.pathname} is not part of the edge contract` } });
  }

  async stop(): Promise<void> {
    for (const poll of this.polls) poll.answer();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server === undefined ? resolve() : this.server.close(() => resolve())));
  }
}
