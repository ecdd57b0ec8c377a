// The whole berth.yaml: a version and the services, plus the rules between services that no
// single service can check (one fixed host port, one route per host and path).
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { issueMessage } from './issue-message.js';
import { portNumber } from './probe.js';
import { httpRouteKeySchema } from './route.js';
import { isRecord, isRuleIssue, reportRules, under } from './rule.js';
import { serviceNameSchema, serviceRuleIssues, serviceSpecSchema, type ServiceSpec } from './service.js';
import { specIssues, type SpecIssue } from './spec-issue.js';
import { strictObject } from './strict-object.js';

export const BERTH_FILE_VERSION = 1;

export interface BerthFile {
  readonly version: typeof BERTH_FILE_VERSION;
  readonly services: Readonly<Record<string, ServiceSpec>>;
}

/**
 * What the rules between services read of one service: its fixed ports (undefined where one
 * does not parse, so indexes stay) and the keys of its routes.
 */
export interface ServiceRoutes {
  readonly ports: readonly (number | undefined)[];
  readonly http?: { readonly host: string; readonly path: string } | undefined;
  readonly tcp?: { readonly port: number } | undefined;
}

/** The routes of a service as written, each field read on its own, so a broken field elsewhere hides no conflict. */
function readableRoutes(raw: unknown): ServiceRoutes {
  if (!isRecord(raw)) return { ports: [] };
  const ports = Array.isArray(raw.ports) ? raw.ports.map((port) => portNumber.safeParse(port).data) : [];
  const http = httpRouteKeySchema.safeParse(raw.http).data;
  const tcp = isRecord(raw.tcp) ? portNumber.safeParse(raw.tcp.port).data : undefined;
  return { ports, http, tcp: tcp === undefined ? undefined : { port: tcp } };
}

/** Conflicts between services; each is reported on the later service, naming the earlier. */
export function crossServiceIssues(services: Readonly<Record<string, ServiceRoutes>>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const hostPorts = new Map<number, string>();
  const routes = new Map<string, string>();
  const edgePorts = new Map<number, string>();
  for (const [name, service] of Object.entries(services)) {
    service.ports.forEach((port, i) => {
      if (port === undefined) return;
      const owner = hostPorts.get(port);
      if (owner !== undefined && owner !== name) {
        issues.push({
          path: ['services', name, 'ports', i],
          message: `port ${port} is also a fixed port of service ${owner}, and a host port holds one service; choose another port`,
        });
      } else hostPorts.set(port, name);
    });
    if (service.http !== undefined) {
      const route = `${service.http.host}${service.http.path}`;
      const owner = routes.get(route);
      if (owner !== undefined) {
        issues.push({
          path: ['services', name, 'http', 'host'],
          message: `${service.http.host} with path ${service.http.path} is already routed to service ${owner}; change the host or the path`,
        });
      } else routes.set(route, name);
    }
    if (service.tcp !== undefined) {
      const owner = edgePorts.get(service.tcp.port);
      if (owner !== undefined) {
        issues.push({
          path: ['services', name, 'tcp', 'port'],
          message: `the edge already listens on ${service.tcp.port} for service ${owner}; choose another port`,
        });
      } else edgePorts.set(service.tcp.port, name);
    }
  }
  return issues;
}

/**
 * Service names are checked here rather than by the key schema: zod skips the value of a bad
 * key, which would hide that service's own errors until the name is fixed.
 */
function nameIssues(services: Readonly<Record<string, unknown>>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const name of Object.keys(services)) {
    const checked = serviceNameSchema.safeParse(name);
    if (!checked.success) issues.push({ path: ['services', name], message: checked.error.issues[0]!.message, atKey: true });
  }
  return issues;
}

/** Every rule of the file, its services and the objects in them, over the input as written. */
function berthFileRules(data: unknown): SpecIssue[] {
  const services = isRecord(data) && isRecord(data.services) ? data.services : {};
  const routes: Record<string, ServiceRoutes> = {};
  for (const [name, service] of Object.entries(services)) routes[name] = readableRoutes(service);
  return [
    ...nameIssues(services),
    ...Object.entries(services).flatMap(([name, service]) => under(['services', name], serviceRuleIssues(service))),
    ...crossServiceIssues(routes),
  ];
}

const DNS_LABEL_SOURCE = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';

export const berthFileSchema = strictObject({
  version: z.literal(BERTH_FILE_VERSION).default(BERTH_FILE_VERSION),
  // names are checked by nameIssues, not by this key schema (see there)
  services: z.record(z.string().meta({ pattern: DNS_LABEL_SOURCE }), serviceSpecSchema),
})
  .superRefine((file, ctx) => reportRules(ctx, [...nameIssues(file.services), ...crossServiceIssues(file.services)])) satisfies z.ZodType<BerthFile, unknown>;

/** Validates a berth file as data, reporting every problem at once (see rule.ts). */
export function checkBerthFile(data: unknown): Result<BerthFile, SpecIssue[]> {
  const result = berthFileSchema.safeParse(data, { error: issueMessage, reportInput: true });
  if (result.success) return ok(result.data);
  return err([...specIssues(result.error.issues.filter((issue) => !isRuleIssue(issue))), ...berthFileRules(data)]);
}
