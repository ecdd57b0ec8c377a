// The edge's numbers, two ways: the per-second report for the control plane (counts since the
// last report) and Prometheus text for scrapers (totals). Both read the counters the proxies keep
// on services and instances; nothing here runs per request.
import client from 'prom-client';
import { LATENCY_BOUNDS, type LatencyHistogram } from './latency-histogram.js';
import type { EdgeMetricsReport, InstanceLoad, LatencyQuantiles, ServiceLoad, StatusClass } from './metrics-report.js';
import type { RoutedInstance } from './routed-instance.js';
import type { Routing } from './routing.js';
import type { ServiceInstances } from './service-instances.js';

const CLASSES: readonly StatusClass[] = ['1xx', '2xx', '3xx', '4xx', '5xx'];

interface InstanceMark {
  requests: number;
  statuses: number[];
  failures: number;
  latency: LatencyHistogram;
}

interface ServiceMark {
  latency: LatencyHistogram;
  rejected: number;
  retries: number;
}

const round = (n: number, digits = 3): number => Math.round(n * 10 ** digits) / 10 ** digits;

/** What was observed since the mark (all of it without one), as quantiles; null when nothing was. */
function quantilesSince(latency: LatencyHistogram, mark: LatencyHistogram | undefined): LatencyQuantiles | null {
  const interval = mark === undefined ? latency : latency.since(mark);
  if (interval.count === 0) return null;
  const p = (q: number): number => round((interval.quantile(q) ?? 0) * 1000);
  return { p50: p(0.5), p90: p(0.9), p99: p(0.99) };
}

const prometheusLabel = (value: string): string => value.replace(/["\\\n]/g, '_');

export class EdgeMetrics {
  readonly registry = new client.Registry();
  private readonly instanceMarks = new WeakMap<RoutedInstance, InstanceMark>();
  private readonly serviceMarks = new WeakMap<ServiceInstances, ServiceMark>();
  private lastReport: number;

  constructor(
    private readonly routing: Routing,
    private readonly edge: string,
    private readonly now: () => number = Date.now,
  ) {
    this.lastReport = now();
    this.registerPrometheus();
  }

  /** Counts since the previous call, gauges as of now. */
  report(): EdgeMetricsReport {
    const now = this.now();
    const intervalMs = Math.max(1, now - this.lastReport);
    this.lastReport = now;
    const services = this.routing.allServices().map((service) => this.serviceLoad(service, intervalMs, now));
    return { edge: this.edge, at: new Date(now).toISOString(), intervalMs, routeTableVersion: this.routing.version, services };
  }

  private serviceLoad(service: ServiceInstances, intervalMs: number, now: number): ServiceLoad {
    const mark = this.serviceMarks.get(service);
    const latencyMs = quantilesSince(service.latency, mark?.latency);
    const rejected = service.rejected - (mark?.rejected ?? 0);
    const retries = service.retries - (mark?.retries ?? 0);
    this.serviceMarks.set(service, { latency: service.latency.copy(), rejected: service.rejected, retries: service.retries });
    const statuses = { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    let requests = 0;
    const instances = service.all().map((instance): InstanceLoad => {
      const before = this.instanceMarks.get(instance);
      const counted = instance.requests - (before?.requests ?? 0);
      requests += counted;
      CLASSES.forEach((c, i) => (statuses[c] += instance.statuses[i]! - (before?.statuses[i] ?? 0)));
      const errors = instance.statuses[4]! - (before?.statuses[4] ?? 0) + (instance.failures - (before?.failures ?? 0));
      const instanceLatency = quantilesSince(instance.latency, before?.latency);
      this.instanceMarks.set(instance, { requests: instance.requests, statuses: [...instance.statuses], failures: instance.failures, latency: instance.latency.copy() });
      const ejected = instance.outlier.ejectedUntil > now;
      return {
        id: instance.id,
        inFlight: instance.inFlight,
        connections: instance.connections,
        requests: counted,
        errors,
        latencyMs: instanceLatency,
        ready: instance.ready,
        leaving: instance.leaving,
        drained: instance.drained,
        ...(ejected ? { ejectedUntil: new Date(instance.outlier.ejectedUntil).toISOString() } : {}),
      };
    });
    return {
      service: service.service,
      kind: service.config.mode === 'tcp' ? 'tcp' : 'http',
      mode: service.config.mode,
      inFlight: service.inFlight,
      concurrency: round(service.takeMeanInFlight()),
      requests,
      rps: round((requests * 1000) / intervalMs),
      statuses,
      latencyMs,
      connections: service.connections,
      queued: service.queued,
      rejected,
      retries,
      instances,
    };
  }

  /** Prometheus text: the registry's metrics plus the latency histograms. */
  async prometheus(): Promise<string> {
    return (await this.registry.metrics()) + this.latencyText();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private registerPrometheus(): void {
    const registry = this.registry;
    const routing = this.routing;
    const perInstance = (instanceValue: (service: ServiceInstances, instance: RoutedInstance) => number) =>
      function (this: client.Gauge<'service' | 'instance'>): void {
        this.reset();
        for (const service of routing.allServices()) for (const instance of service.all()) this.set({ service: service.service, instance: instance.id }, instanceValue(service, instance));
      };
    new client.Counter({
      name: 'berth_edge_requests_total',
      help: 'Requests answered, by service, instance and status class.',
      labelNames: ['service', 'instance', 'code'] as const,
      registers: [registry],
      collect(this: client.Counter<'service' | 'instance' | 'code'>) {
        this.reset();
        for (const service of routing.allServices()) {
          for (const instance of service.all()) CLASSES.forEach((code, i) => this.inc({ service: service.service, instance: instance.id, code }, instance.statuses[i]!));
        }
      },
    });
    new client.Counter({
      name: 'berth_edge_upstream_failures_total',
      help: 'Connections to an instance that failed (refused, reset, timed out), by service and instance.',
      labelNames: ['service', 'instance'] as const,
      registers: [registry],
      collect(this: client.Counter<'service' | 'instance'>) {
        this.reset();
        for (const service of routing.allServices()) for (const instance of service.all()) this.inc({ service: service.service, instance: instance.id }, instance.failures);
      },
    });
    new client.Gauge({
      name: 'berth_edge_in_flight_requests',
      help: 'Requests sent to an instance and not yet answered (on TCP routes: open connections).',
      labelNames: ['service', 'instance'] as const,
      registers: [registry],
      collect: perInstance((_, i) => i.inFlight),
    });
    new client.Gauge({
      name: 'berth_edge_active_connections',
      help: 'Client connections pinned to an instance (per-connection and TCP routes).',
      labelNames: ['service', 'instance'] as const,
      registers: [registry],
      collect: perInstance((_, i) => i.connections),
    });
    new client.Gauge({
      name: 'berth_edge_instance_routable',
      help: '1 while an instance takes new work: ready, not leaving, not ejected.',
      labelNames: ['service', 'instance'] as const,
      registers: [registry],
      collect: perInstance((_, i) => (i.ready && !i.leaving && i.outlier.ejectedUntil <= Date.now() ? 1 : 0)),
    });
    const perService = (name: string, help: string, value: (service: ServiceInstances) => number, type: 'gauge' | 'counter') => {
      const collect = function (this: client.Gauge<'service'> | client.Counter<'service'>): void {
        this.reset();
        for (const service of routing.allServices()) {
          if (this instanceof client.Gauge) this.set({ service: service.service }, value(service));
          else this.inc({ service: service.service }, value(service));
        }
      };
      if (type === 'gauge') new client.Gauge({ name, help, labelNames: ['service'] as const, registers: [registry], collect });
      else new client.Counter({ name, help, labelNames: ['service'] as const, registers: [registry], collect });
    };
    perService('berth_edge_queued_requests', 'Requests waiting for a hard limit or for a service to start from zero.', (s) => s.queued, 'gauge');
    perService('berth_edge_rejected_total', 'Requests answered 503 for want of capacity.', (s) => s.rejected, 'counter');
    perService('berth_edge_retries_total', 'Requests sent again after a refused or dead connection.', (s) => s.retries, 'counter');
    perService('berth_edge_activations_total', 'Requests that found their service at zero and asked for an instance.', (s) => s.activations, 'counter');
    new client.Gauge({
      name: 'berth_edge_route_table_version',
      help: 'Version of the route table in force.',
      registers: [registry],
      collect(this: client.Gauge) {
        this.set(routing.version);
      },
    });
    // the event-loop lag is sampled by a libuv timer: prom-client's 10 ms default wakes an idle
    // edge 100 times a second. Every 100 ms still records any stall that spans a sample (its
    // length, not the sample's), at a tenth of the wakeups
    client.collectDefaultMetrics({ register: registry, prefix: 'berth_edge_', eventLoopMonitoringPrecision: 100 });
  }

  /**
   * The histograms are written here rather than by prom-client: its observe() hashes label
   * values on every call, which the per-connection fast path cannot afford per request. One
   * series per instance, as berth_edge_requests_total; `sum by (service, le)` gives a service's.
   */
  private latencyText(): string {
    const name = 'berth_edge_request_duration_seconds';
    const lines = [`# HELP ${name} Time from a request's head to the end of its answer, by service and instance.`, `# TYPE ${name} histogram`];
    for (const service of this.routing.allServices()) {
      for (const instance of service.all()) {
        const h = instance.latency;
        const labels = `service="${prometheusLabel(service.service)}",instance="${prometheusLabel(instance.id)}"`;
        let cumulative = 0;
        LATENCY_BOUNDS.forEach((bound, i) => {
          cumulative += h.counts[i]!;
          lines.push(`${name}_bucket{${labels},le="${bound}"} ${cumulative}`);
        });
        lines.push(`${name}_bucket{${labels},le="+Inf"} ${h.count}`, `${name}_sum{${labels}} ${h.sum}`, `${name}_count{${labels}} ${h.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
