// The whole berth.yaml: a version and the services, plus the rules between services that no
// single service can check (one fixed host port, one route per host and path).
import { z } from 'zod';
import { err, ok, type Result } from '../core/result.js';
import { issueMessage } from './issue-message.js';
import { formatPath, specIssues, type SpecIssue } from './spec-issue.js';
import { serviceNameSchema, serviceSpecSchema, type ServiceSpec } from './service.js';
import { strictObject } from './strict-object.js';

export const BERTH_FILE_VERSION = 1;

export interface BerthFile {
  readonly version: typeof BERTH_FILE_VERSION;
  readonly services: Readonly<Record<string, ServiceSpec>>;
}

/** Conflicts between services; each is reported on the later service, naming the earlier. */
export function crossServiceIssues(services: Readonly<Record<string, ServiceSpec>>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const hostPorts = new Map<number, string>();
  const routes = new Map<string, string>();
  const edgePorts = new Map<number, string>();
  for (const [name, service] of Object.entries(services)) {
    service.ports.forEach((port, i) => {
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

const DNS_LABEL_SOURCE = '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$';

export const berthFileSchema = strictObject({
  version: z.literal(BERTH_FILE_VERSION).default(BERTH_FILE_VERSION),
  // names are checked below rather than by the key schema: zod skips the value of a bad key,
  // which would hide that service's own errors until the name is fixed
  services: z.record(z.string().meta({ pattern: DNS_LABEL_SOURCE }), serviceSpecSchema),
})
  .superRefine(
    (_, ctx) => {
      const services = (ctx.value as { services?: unknown }).services;
      if (typeof services !== 'object' || services === null) return;
      for (const name of Object.keys(services)) {
        const checked = serviceNameSchema.safeParse(name);
        if (!checked.success) {
          ctx.addIssue({ code: 'custom', path: ['services', name], message: checked.error.issues[0]!.message, input: name, params: { atKey: true } });
        }
      }
    },
    { when: () => true },
  )
  .superRefine((file, ctx) => {
    for (const issue of crossServiceIssues(file.services)) {
      ctx.addIssue({ code: 'custom', path: [...issue.path], message: issue.message, input: formatPath(issue.path), params: { crossService: true } });
    }
  }) satisfies z.ZodType<BerthFile, unknown>;

/**
 * Validates a berth file as data, reporting every problem at once: when a service fails, the
 * cross-service rules still run over the services that parse.
 */
export function checkBerthFile(data: unknown): Result<BerthFile, SpecIssue[]> {
  const result = berthFileSchema.safeParse(data, { error: issueMessage, reportInput: true });
  if (result.success) return ok(result.data);
  const issues = specIssues(result.error.issues);
  const crossChecked = result.error.issues.some((i) => i.code === 'custom' && i.params?.crossService === true);
  const raw = typeof data === 'object' && data !== null ? (data as { services?: unknown }).services : undefined;
  if (!crossChecked && typeof raw === 'object' && raw !== null && !Array.isArray(raw)) {
    const parsed: Record<string, ServiceSpec> = {};
    for (const [name, service] of Object.entries(raw)) {
      const one = serviceSpecSchema.safeParse(service);
      if (one.success) parsed[name] = one.data;
    }
    issues.push(...crossServiceIssues(parsed));
  }
  return err(issues);
}
