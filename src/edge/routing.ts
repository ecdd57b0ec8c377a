// The route table in force: host and path prefix to service, port to TCP service. A new table is
// compiled aside and swapped in with one assignment, so a lookup sees the old table or the new
// one, never a mix. Services keep their instance state (counters, in-flight work, pooled
// connections) across tables; a service that leaves the table drains like its instances.
import type { Random } from '../core/random.js';
import { WILDCARD_LABEL } from '../spec/route.js';
import type { OutlierPolicy } from './outlier-detection.js';
import { routeMode, type HttpRouteEntry, type RouteTable, type RoutingMode, type TcpRouteEntry } from './route-table.js';
import { serviceConfig, ServiceInstances, type ActivateService } from './service-instances.js';

export interface HttpRoute {
  readonly host: string;
  readonly pathPrefix: string;
  readonly mode: RoutingMode;
  readonly entry: HttpRouteEntry;
  readonly service: ServiceInstances;
}

export interface TcpRoute {
  /** its port is entry.port */
  readonly entry: TcpRouteEntry;
  readonly service: ServiceInstances;
}

interface Compiled {
  readonly version: number;
  /** per exact host, longest prefix first */
  readonly hosts: ReadonlyMap<string, readonly HttpRoute[]>;
  /** per wildcard host without its `*` (`*.example.com` under `.example.com`), longest prefix first */
  readonly wildcards: ReadonlyMap<string, readonly HttpRoute[]>;
  readonly tcp: ReadonlyMap<number, TcpRoute>;
}

export interface RoutingOptions {
  readonly random: Random;
  readonly activate: ActivateService;
  readonly outlier?: OutlierPolicy;
  readonly now?: () => number;
}

/** `/api` matches /api, /api/x and /api?q, not /apix. */
export function matchesPrefix(path: string, prefix: string): boolean {
  if (prefix === '/') return true;
  if (!path.startsWith(prefix)) return false;
  const next = path.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */;
}

export class Routing {
  private compiled: Compiled = { version: -1, hosts: new Map(), wildcards: new Map(), tcp: new Map() };
  /** by `http:<service>` or `tcp:<service>`, including services draining out of the table */
  private readonly services = new Map<string, ServiceInstances>();
  /** called after a table is in force, e.g. to open and close TCP listeners */
  onApplied: (table: RouteTable) => void = () => {};

  constructor(private readonly options: RoutingOptions) {}

  get version(): number {
    return this.compiled.version;
  }

  lookup(host: string, path: string): HttpRoute | undefined {
    return this.route({ host, target: path });
  }

  /**
   * The route of a request; its target is read only where the host's routes differ by path. The
   * host is chosen first, then the path: an exact host wins over any wildcard, and among wildcards
   * the longest suffix (`*.eu.example.com` over `*.example.com`). A path no prefix of the chosen
   * host matches is not routed (404), never passed to a less specific host, as nginx's
   * server_name and Envoy's virtual hosts choose.
   */
  route(request: { readonly host: string; readonly target: string }): HttpRoute | undefined {
    const routes = this.compiled.hosts.get(request.host) ?? this.wildcardRoutes(request.host);
    if (routes === undefined) return undefined;
    if (routes.length === 1 && routes[0]!.pathPrefix === '/') return routes[0];
    const path = request.target;
    for (const route of routes) if (matchesPrefix(path, route.pathPrefix)) return route;
    return undefined;
  }

  /**
   * The routes of the longest wildcard that covers `host`, by one map lookup per dot: the suffix
   * from each dot, longest first, is the key of `*.suffix`. The first dot is looked for from the
   * second character on, so a wildcard stands for something (`*.example.com` takes a.example.com
   * and a.b.example.com, not example.com or .example.com). Labels are not checked, as Envoy does
   * not: a Host with an empty one (x..example.com) matches as it reads. Only a host without an
   * exact route gets here.
   */
  private wildcardRoutes(host: string): readonly HttpRoute[] | undefined {
    const wildcards = this.compiled.wildcards;
    if (wildcards.size === 0) return undefined;
    for (let dot = host.indexOf('.', 1); dot >= 0; dot = host.indexOf('.', dot + 1)) {
      const routes = wildcards.get(host.slice(dot));
      if (routes !== undefined) return routes;
    }
    return undefined;
  }

  tcpRoute(port: number): TcpRoute | undefined {
    return this.compiled.tcp.get(port);
  }

  tcpPorts(): number[] {
    return [...this.compiled.tcp.keys()];
  }

  apply(table: RouteTable): void {
    const seen = new Set<string>();
    const service = (key: string, config: ReturnType<typeof serviceConfig>, instances: HttpRouteEntry['instances']): ServiceInstances => {
      let found = this.services.get(key);
      if (found === undefined) {
        found = new ServiceInstances(config, this.options);
        this.services.set(key, found);
      }
      // one service named by several routes gets the instances of its first route
      if (!seen.has(key)) found.update(config, instances);
      seen.add(key);
      return found;
    };
    const hosts = new Map<string, HttpRoute[]>();
    const wildcards = new Map<string, HttpRoute[]>();
    for (const entry of table.routes) {
      const route: HttpRoute = {
        host: entry.host,
        pathPrefix: entry.pathPrefix,
        mode: routeMode(entry),
        entry,
        service: service(`http:${entry.service}`, serviceConfig(entry), entry.instances),
      };
      // berth.yaml allows `*` only as a leading `*.` label (src/spec/route.ts)
      const [byHost, key] = entry.host.startsWith(WILDCARD_LABEL) ? [wildcards, entry.host.slice(1)] : [hosts, entry.host];
      const list = byHost.get(key) ?? [];
      list.push(route);
      byHost.set(key, list);
    }
    for (const list of [...hosts.values(), ...wildcards.values()]) list.sort((a, b) => b.pathPrefix.length - a.pathPrefix.length);
    const tcp = new Map<number, TcpRoute>();
    for (const entry of table.tcp) {
      tcp.set(entry.port, { entry, service: service(`tcp:${entry.service}`, serviceConfig(entry), entry.instances) });
    }
    for (const [key, gone] of this.services) {
      if (seen.has(key)) continue;
      gone.update(gone.config, []);
      if (gone.all().length === 0) this.services.delete(key);
    }
    this.compiled = { version: table.version, hosts, wildcards, tcp };
    this.onApplied(table);
  }

  /** Every service the edge knows, those draining out of the table included. */
  allServices(): ServiceInstances[] {
    return [...this.services.values()];
  }

  /** Once a second: grace periods, expired ejections, services that finished draining. */
  tick(): void {
    const live = new Set<ServiceInstances>([...this.compiled.tcp.values()].map((route) => route.service));
    for (const routes of [...this.compiled.hosts.values(), ...this.compiled.wildcards.values()]) for (const route of routes) live.add(route.service);
    for (const [key, service] of this.services) {
      service.tick();
      if (!live.has(service) && service.all().length === 0) this.services.delete(key);
    }
  }

  close(): void {
    for (const service of this.services.values()) service.close();
  }
}
