import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatSize } from '../core/quantity.js';
import { parseBerthFile } from './parse.js';
import { checkServiceSpec } from './service.js';
import { formatPath } from './spec-issue.js';

/** The issues of a spec as `line:col path: message`, the way `berth validate` prints them. */
function problems(text: string): string[] {
  const result = parseBerthFile(text);
  if (result.ok) return [];
  return result.error.map((i) => `${i.line}:${i.col} ${formatPath(i.path)}: ${i.message}`);
}

/** A one-service file; `body` is indented under `services.web`, starting on line 3. */
const web = (body: string): string =>
  `services:\n  web:\n${body
    .trim()
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')}\n`;

describe('parseBerthFile: valid files', () => {
  it('fills every default for the smallest service', () => {
    const result = parseBerthFile('services:\n  hello:\n    run: node server.js\n');
    expect(result).toEqual({
      ok: true,
      value: {
        version: 1,
        services: {
          hello: {
            run: 'node server.js',
            dir: '.',
            env: {},
            secrets: [],
            resources: { memory: 256 * 2 ** 20, cpu: 250 },
            ports: [],
            health: {},
            replicas: 1,
            deploy: {
              strategy: 'rolling',
              maxSurge: { count: 1 },
              maxUnavailable: { count: 0 },
              minHealthy: 10_000,
              healthyDeadline: 300_000,
              autoRevert: true,
            },
            stop: { signal: 'SIGTERM', grace: 30_000 },
            volumes: [],
            placement: { labels: {} },
          },
        },
      },
    });
  });

  it('parses every field of the full example to bytes, millicores and milliseconds', () => {
    const result = parseBerthFile(readFileSync(new URL('./fixtures/full.berth.yaml', import.meta.url), 'utf8'));
    if (!result.ok) expect.fail(result.error.map((i) => `${i.line}:${i.col} ${formatPath(i.path)}: ${i.message}`).join('\n'));
    const { web: w, db } = result.value.services;
    expect(w).toMatchObject({
      dir: './web',
      env: { NODE_ENV: 'production', WORKERS: '4', DEBUG: 'false' },
      secrets: ['DATABASE_URL', 'SESSION_KEY'],
      resources: { memory: 512 * 2 ** 20, cpu: 500 },
      health: {
        ready: { type: 'http', path: '/healthz', interval: 5_000, timeout: 1_000, failures: 2, initialDelay: 2_000 },
        live: { type: 'tcp', interval: 30_000, timeout: 2_000, failures: 3, initialDelay: 0 },
      },
      http: {
        host: 'app.example.com',
        path: '/api',
        mode: 'per-request',
        balancer: 'round-robin',
        affinity: { type: 'header', header: 'X-Tenant' },
        concurrency: { type: 'requests', soft: 20, hard: 25 },
        queue: { limit: 50, timeout: 2_000 },
      },
      scale: { min: 0, max: 10, target: { type: 'concurrency', value: 15 }, idle: 900_000 },
      deploy: { strategy: 'rolling', maxSurge: { percent: 25 }, maxUnavailable: { count: 1 }, minHealthy: 15_000, healthyDeadline: 180_000, autoRevert: false },
      stop: { signal: 'SIGINT', grace: 45_000 },
      placement: { region: 'eu-west', labels: { disk: 'ssd', gpu: 'false' } },
    });
    expect(w?.replicas).toBeUndefined();
    expect(db).toMatchObject({
      ports: [5432],
      tcp: { port: 15432, idleTimeout: 8 * 3_600_000, balancer: 'round-robin', affinity: { type: 'ip' }, concurrency: { soft: 80, hard: 100 }, queue: { limit: 20, timeout: 5_000 } },
      replicas: 1,
      health: { ready: { type: 'exec', command: 'pg_isready -h 127.0.0.1' }, live: { type: 'tcp', port: 5432 } },
      volumes: [{ name: 'pgdata', mount: '/var/lib/postgresql/data', size: 20 * 2 ** 30 }],
    });
  });

  it('gives a routed service without a ready probe a tcp probe of $PORT', () => {
    const result = parseBerthFile(web('run: x\nhttp: { host: a.localhost }'));
    expect(result.ok && result.value.services.web?.health.ready).toEqual({ type: 'tcp', interval: 10_000, timeout: 2_000, failures: 3, initialDelay: 0 });
  });

  it('accepts the short affinity forms and normalizes path prefixes', () => {
    const routes = ['cookie', 'ip', '{ cookie: sticky }'].map((affinity) => {
      const result = parseBerthFile(web(`run: x\nhttp: { host: a.localhost, path: /app/, affinity: ${affinity} }`));
      return result.ok ? result.value.services.web?.http : result.error;
    });
    expect(routes.map((r) => r && 'affinity' in r && r.affinity)).toEqual([
      { type: 'cookie', cookie: 'berth_affinity' },
      { type: 'ip' },
      { type: 'cookie', cookie: 'sticky' },
    ]);
    expect(routes[0]).toMatchObject({ path: '/app' });
  });

  it('leaves mode, balancer, queue and idleTimeout out when the file does (the edge fills them)', () => {
    const result = parseBerthFile('services:\n  web:\n    run: x\n    http: { host: a.localhost }\n  db:\n    run: x\n    tcp: { port: 15432 }\n');
    if (!result.ok) return expect.fail(JSON.stringify(result.error));
    expect(result.value.services.web?.http).toEqual({ host: 'a.localhost', path: '/', concurrency: { type: 'requests' } });
    expect(result.value.services.db?.tcp).toEqual({ port: 15432 });
  });

  it('reads a wildcard host as written, *.localhost included', () => {
    const hosts = ['"*.example.com"', "'*.eu.example.com'", '"*.localhost"'].map((host) => {
      const result = parseBerthFile(web(`run: x\nhttp: { host: ${host} }`));
      return result.ok ? result.value.services.web?.http?.host : result.error;
    });
    expect(hosts).toEqual(['*.example.com', '*.eu.example.com', '*.localhost']);
  });

  it("reads a TCP route's balancer, ip affinity, connection limits and queue, leaving out what limits nothing", () => {
    const read = (tcp: string) => {
      const result = parseBerthFile(web(`run: x\ntcp: ${tcp}`));
      return result.ok ? result.value.services.web?.tcp : result.error;
    };
    expect(read('{ port: 5432, balancer: least-outstanding, affinity: ip, concurrency: { hard: 10 }, queue: { timeout: 500ms } }')).toEqual({
      port: 5432,
      balancer: 'least-outstanding',
      affinity: { type: 'ip' },
      concurrency: { hard: 10 },
      queue: { timeout: 500 },
    });
    // type: connections is what a TCP route counts anyway (accepted for a route copied from http:)
    expect(read('{ port: 5432, concurrency: { type: connections, soft: 3 } }')).toEqual({ port: 5432, concurrency: { soft: 3 } });
    // no limit: the same spec as no concurrency at all, so deploy sees nothing changed
    expect(read('{ port: 5432, concurrency: { type: connections } }')).toEqual({ port: 5432 });
    expect(read('{ port: 5432, concurrency: {} }')).toEqual({ port: 5432 });
  });

  it("reads a TCP route's proxyProtocol, v1 or v2, and leaves it out when the file does", () => {
    const read = (tcp: string) => {
      const result = parseBerthFile(web(`run: x\ntcp: ${tcp}`));
      return result.ok ? result.value.services.web?.tcp : result.error;
    };
    expect(read('{ port: 5432, proxyProtocol: v1 }')).toEqual({ port: 5432, proxyProtocol: 'v1' });
    expect(read('{ port: 5432, proxyProtocol: v2, affinity: ip }')).toEqual({ port: 5432, affinity: { type: 'ip' }, proxyProtocol: 'v2' });
    // a spec stored before the field existed is the spec parsed now: no key, not `undefined`
    const without = read('{ port: 5432 }');
    expect(without).toEqual({ port: 5432 });
    expect(Object.keys(without as object)).toEqual(['port']);
  });

  it('reads a routing mode that serves the route, a balancer and half a queue', () => {
    const read = (http: string) => {
      const result = parseBerthFile(web(`run: x\nhttp: ${http}`));
      return result.ok ? result.value.services.web?.http : result.error;
    };
    expect(read('{ host: a.localhost, mode: per-connection, balancer: round-robin, affinity: ip }')).toMatchObject({ mode: 'per-connection', balancer: 'round-robin' });
    expect(read('{ host: a.localhost, mode: per-connection, concurrency: { type: connections, hard: 10 }, queue: { timeout: 500ms } }')).toMatchObject({
      mode: 'per-connection',
      queue: { timeout: 500 },
    });
    // per-request serves everything but limits on connections, cookie affinity included
    expect(read('{ host: a.localhost, mode: per-request, affinity: cookie, concurrency: { hard: 5 }, queue: { limit: 0 } }')).toMatchObject({
      mode: 'per-request',
      queue: { limit: 0 },
    });
  });

  it('reads every scale target and defaults idle only when min is 0', () => {
    const targets = ['{ rps: 50 }', '{ cpu: 70 }', '{ metric: queue_depth, value: 100 }'].map((target) => {
      const result = parseBerthFile(web(`run: x\nscale: { min: 0, max: 3, target: ${target} }`));
      return result.ok ? result.value.services.web?.scale : undefined;
    });
    expect(targets).toEqual([
      { min: 0, max: 3, target: { type: 'rps', value: 50 }, idle: 300_000 },
      { min: 0, max: 3, target: { type: 'cpu', value: 70 }, idle: 300_000 },
      { min: 0, max: 3, target: { type: 'metric', metric: 'queue_depth', value: 100 }, idle: 300_000 },
    ]);
    const floor = parseBerthFile(web('run: x\nscale: { max: 3, target: { rps: 5 } }'));
    expect(floor.ok && floor.value.services.web?.scale).toEqual({ min: 1, max: 3, target: { type: 'rps', value: 5 } });
  });

  it('reads a scale-down stabilization window, zero included', () => {
    const read = (stabilization: string) => {
      const result = parseBerthFile(web(`run: x\nscale: { max: 3, target: { rps: 5 }, stabilization: ${stabilization} }`));
      return result.ok ? result.value.services.web?.scale?.stabilization : result.error;
    };
    expect(read('30s')).toBe(30_000);
    expect(read('0s')).toBe(0);
    expect(problems(web('run: x\nscale: { max: 3, target: { rps: 5 }, stabilization: soon }'))).toEqual([
      '4:57 services.web.scale.stabilization: "soon" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m',
    ]);
  });
});

describe('parseBerthFile: every error, at its line and column', () => {
  it('names unknown fields with the closest known one', () => {
    expect(problems(web('run: x\nreplica: 2\nresources: { memroy: 1Gi }\nimage: node:24'))).toEqual([
      '4:5 services.web.replica: unknown field; did you mean "replicas"?',
      '5:18 services.web.resources.memroy: unknown field; did you mean "memory"?',
      '6:5 services.web.image: unknown field; remove it or use one of: run, dir, env, secrets, resources, ports, health, http, tcp, replicas, scale, deploy, stop, volumes, placement',
    ]);
    expect(problems('servics:\n  web: { run: x }\n')).toEqual([
      '1:1 services: missing; add services: { web: { run: node server.js } }',
      '1:1 servics: unknown field; did you mean "services"?',
    ]);
  });

  it('rejects sizes that do not parse, are zero, or leave memory under 4Mi', () => {
    expect(problems(web('run: x\nresources: { memory: 256MB }'))).toEqual([
      '4:26 services.web.resources.memory: "256MB" is not a size; write 256Mi (binary) or 256M (decimal)',
    ]);
    expect(problems(web('run: x\nresources: { memory: 1Mi }'))).toEqual([
      '4:26 services.web.resources.memory: "1Mi" is under the minimum of 4Mi; write at least 4Mi',
    ]);
    expect(problems(web('run: x\nresources: { memory: 0 }'))).toEqual([
      '4:26 services.web.resources.memory: "0" is zero; write a positive size, e.g. 256Mi',
    ]);
    expect(problems(web('run: x\nresources: { memory: -1Gi, cpu: -1 }'))).toEqual([
      '4:26 services.web.resources.memory: "-1Gi" is not a size; write bytes or a number with a suffix, e.g. 512Mi, 1Gi or 1.5G',
      '4:37 services.web.resources.cpu: "-1" is not a CPU amount; write cores (0.5, 2) or millicores (500m)',
    ]);
    expect(problems(web('run: x\nvolumes: [{ name: data, mount: /data, size: 0 }]'))).toEqual([
      '4:49 services.web.volumes[0].size: "0" is zero; write a positive size, e.g. 256Mi',
    ]);
    expect(problems(web('run: x\nresources: { cpu: true }'))).toEqual([
      '4:23 services.web.resources.cpu: true is not a CPU amount; write cores (0.25, 2) or millicores (250m)',
    ]);
  });

  it('rejects durations that do not parse', () => {
    expect(problems(web('run: x\nstop: { grace: 30 }\nhealth:\n  ready: { type: tcp, interval: 1x }'))).toEqual([
      '4:20 services.web.stop.grace: "30" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m',
      '6:37 services.web.health.ready.interval: "1x" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m',
    ]);
    expect(problems(web('run: x\nstop: { grace: 30s1m }'))).toEqual([
      '4:20 services.web.stop.grace: "30s1m" has its units out of order; write them largest first: 1m30s',
    ]);
  });

  it('rejects min above max, and replicas together with scale', () => {
    expect(problems(web('run: x\nreplicas: 2\nscale:\n  min: 5\n  max: 3\n  target: { cpu: 70 }'))).toEqual([
      '5:5 services.web.scale: replicas and scale are both set; keep replicas for a fixed count or scale for autoscaling',
      '6:12 services.web.scale.min: min 5 is above max 3; lower min or raise max',
    ]);
  });

  it('checks scale targets and idle', () => {
    expect(problems(web('run: x\nscale: { min: 1, max: 3, target: {}, idle: 10m }'))).toEqual([
      '4:38 services.web.scale.target: names no target; write target: { concurrency: 20 }, { rps: 100 }, { cpu: 70 } or { metric: queue_depth, value: 100 }',
      '4:48 services.web.scale.idle: idle scales to zero, which min 1 forbids; set min: 0 or remove idle',
    ]);
    expect(problems(web('run: x\nscale: { max: 3, target: { metric: queue } }'))).toEqual([
      '4:30 services.web.scale.target: metric queue needs a per-instance value; add value: 100',
    ]);
    expect(problems(web('run: x\nscale: { max: 3, target: { rps: 5, cpu: 70 } }'))).toEqual([
      '4:45 services.web.scale.target.cpu: sets both rps and cpu; keep one target',
    ]);
  });

  it('rejects a health probe port that is not the service\'s', () => {
    expect(problems(web('run: x\nhealth:\n  ready: { type: http, path: /healthz, port: 9000 }'))).toEqual([
      "5:50 services.web.health.ready.port: port 9000 is not this service's; remove port to probe $PORT",
    ]);
    expect(problems(web('run: x\nports: [80, 443]\nhealth:\n  live: { type: tcp, port: 8080 }'))).toEqual([
      "6:32 services.web.health.live.port: port 8080 is not this service's; remove port to probe $PORT (80) or use one of ports: 80, 443",
    ]);
    expect(problems(web('run: x\nports: [80, 443]\nhealth:\n  live: { type: tcp, port: 443 }'))).toEqual([]);
  });

  it('checks the fields of each probe type', () => {
    expect(problems(web('run: x\nhealth:\n  ready: { type: tcp, path: /x }\n  live: { type: exec, timeout: 20s }'))).toEqual([
      '5:33 services.web.health.ready.path: a tcp probe has no path; remove it, or set type: http',
      '6:7 services.web.health.live.command: an exec probe needs a command; add e.g. command: pg_isready',
      '6:36 services.web.health.live.timeout: 20s is longer than the interval of 10s; lower the timeout or raise the interval',
    ]);
    expect(problems(web('run: x\nhealth:\n  ready: { path: /x }'))).toEqual([
      '5:7 services.web.health.ready.type: missing; add type: http (or tcp, exec)',
    ]);
    expect(problems(web('run: x\nhealth:\n  http:\n    path: /healthz'))).toEqual([
      '5:7 services.web.health.http: a probe goes under ready (routing) or live (restarts); write health: { ready: { type: http, path: /healthz } }',
    ]);
    expect(problems(web('run: x\nhealth:\n  live: { http: { path: /healthz } }'))).toEqual([
      '5:7 services.web.health.live.type: missing; add type: http (or tcp, exec)',
      '5:15 services.web.health.live.http: a probe names its kind with type; write { type: http, path: /healthz }',
    ]);
    expect(problems(web('run: x\nhealth:\n  ready: { type: grpc }'))).toEqual([
      '5:22 services.web.health.ready.type: "grpc" is not one of http, tcp, exec; write one of them',
    ]);
  });

  it('rejects two services on one fixed port, one host route or one edge port', () => {
    const text = [
      'services:',
      '  a:',
      '    run: x',
      '    ports: [80, 443]',
      '    http: { host: a.example.com, path: /api }',
      '    tcp: { port: 5432 }',
      '  b:',
      '    run: x',
      '    ports: [8080, 443]',
      '    http: { host: a.example.com, path: /api/ }',
      '  c:',
      '    run: x',
      '    tcp: { port: 5432 }',
      '    http: { host: a.example.com }',
    ].join('\n');
    expect(problems(text)).toEqual([
      '6:5 services.a.tcp: http and tcp are both set, but an instance has one $PORT; keep one route',
      '9:19 services.b.ports[1]: port 443 is also a fixed port of service a, and a host port holds one service; choose another port',
      '10:19 services.b.http.host: a.example.com with path /api is already routed to service a; change the host or the path',
      '13:5 services.c.tcp: http and tcp are both set, but an instance has one $PORT; keep one route',
      '13:18 services.c.tcp.port: the edge already listens on 5432 for service a; choose another port',
    ]);
  });

  it('rejects two services on one wildcard host and path, and lets a wildcard and an exact host share a path', () => {
    const text = [
      'services:',
      '  a:',
      '    run: x',
      '    http: { host: "*.example.com", path: /api }',
      '  b:',
      '    run: x',
      '    http: { host: "*.example.com", path: /api/ }',
      '  c:',
      '    run: x',
      '    http: { host: a.example.com, path: /api }',
      '  d:',
      '    run: x',
      '    http: { host: "*.a.example.com", path: /api }',
    ].join('\n');
    expect(problems(text)).toEqual(['7:19 services.b.http.host: *.example.com with path /api is already routed to service a; change the host or the path']);
  });

  it('reports conflicts between services even while another service is invalid', () => {
    const text = 'services:\n  a:\n    run: x\n    ports: [80]\n  b:\n    run: x\n    ports: [80]\n  c:\n    run: x\n    replcas: 2\n';
    expect(problems(text)).toEqual([
      '7:13 services.b.ports[0]: port 80 is also a fixed port of service a, and a host port holds one service; choose another port',
      '10:5 services.c.replcas: unknown field; did you mean "replicas"?',
    ]);
  });

  it('reports conflicts between services while those services have other errors', () => {
    const text = [
      'services:',
      '  api:',
      '    run: x',
      '    ports: [8080]',
      '    http: { host: a.example.com }',
      '  db:',
      '    run: x',
      '    ports: [8080, "x"]',
      '    resources: { memory: 1Mi }',
      '    http: { host: a.example.com, affinity: header }',
      '    replicas: 1.5',
    ].join('\n');
    expect(problems(text)).toEqual([
      '8:13 services.db.ports[0]: port 8080 is also a fixed port of service api, and a host port holds one service; choose another port',
      '8:19 services.db.ports[1]: expected a number, got "x"; write a number',
      '9:26 services.db.resources.memory: "1Mi" is under the minimum of 4Mi; write at least 4Mi',
      '10:19 services.db.http.host: a.example.com with path / is already routed to service api; change the host or the path',
      '10:44 services.db.http.affinity: header affinity needs the header name; write affinity: { header: X-Tenant }',
      '11:15 services.db.replicas: 1.5 is not a whole number; write e.g. 2',
    ]);
  });

  it('reports rules between fields while another field of the service is broken', () => {
    expect(problems(web('run: x\nports: [8080, 8080]\nreplicas: 1.5'))).toEqual([
      '4:19 services.web.ports[1]: port 8080 is listed twice; remove one',
      '5:15 services.web.replicas: 1.5 is not a whole number; write e.g. 2',
    ]);
    expect(problems(web('run: x\nscale: { min: 2, max: 2.5, idle: 10m, target: { rps: 5 } }'))).toEqual([
      '4:27 services.web.scale.max: 2.5 is not a whole number; write e.g. 3',
      '4:38 services.web.scale.idle: idle scales to zero, which min 2 forbids; set min: 0 or remove idle',
    ]);
    expect(problems(web('run: x\nhealth:\n  live: { type: tcp, path: /x, failures: 1.5 }\ndeploy: { maxSurge: 0, autoRevert: 1.5 }'))).toEqual([
      '5:32 services.web.health.live.path: a tcp probe has no path; remove it, or set type: http',
      '5:46 services.web.health.live.failures: 1.5 is not a whole number; write e.g. 2',
      '6:25 services.web.deploy.maxSurge: maxSurge and maxUnavailable are both 0, so a rollout could never replace an instance; set maxSurge: 1',
      '6:40 services.web.deploy.autoRevert: expected true or false, got 1.5; write true or false',
    ]);
    expect(problems('services:\n  Web:\n    run: x\n    replicas: 1.5\n')).toEqual([
      '2:3 services.Web: "Web" is not a valid service name (lower-case letters, digits and "-", starting with a letter, at most 63); write e.g. "web"',
      '4:15 services.Web.replicas: 1.5 is not a whole number; write e.g. 2',
    ]);
  });

  it('reports a bad service name on its key and still checks the service', () => {
    expect(problems('services:\n  Web_1:\n    run: x\n    replicas: -1\n')).toEqual([
      '2:3 services.Web_1: "Web_1" is not a valid service name (lower-case letters, digits and "-", starting with a letter, at most 63); write e.g. "web-1"',
      '4:15 services.Web_1.replicas: -1 is too small; write a number at least 0',
    ]);
  });

  it('reports a service or a map left empty', () => {
    expect(problems('services:\n  web:\n  api:\n    run: x\n    health:\n')).toEqual([
      '2:3 services.web: has no fields; add them below it, e.g. run: node server.js',
      '5:5 services.api.health: has no fields; add them below it, or remove health',
    ]);
  });

  it('reports missing and mistyped fields with something to write', () => {
    expect(problems('services:\n  web:\n    dir: app\n')).toEqual(['2:3 services.web.run: missing; add run: node server.js']);
    expect(problems(web('run: x\nports: [80, "http"]\nreplicas: 1.5'))).toEqual([
      '4:17 services.web.ports[1]: expected a number, got "http"; write a number',
      '5:15 services.web.replicas: 1.5 is not a whole number; write e.g. 2',
    ]);
    expect(problems(web('run: x\nenv: { PORT: 1, a-b: 2, EMPTY: }\nsecrets: [EMPTY]'))).toEqual([
      '4:12 services.web.env.PORT: "PORT" is set by berth for every instance; choose another name',
      '4:21 services.web.env.a-b: "a-b" is not a valid variable name (letters, digits and "_", not starting with a digit); write e.g. "a_b"',
      '4:29 services.web.env.EMPTY: has no value; write one, or "" for an empty one',
      '5:15 services.web.secrets[0]: EMPTY is both in env and a secret; remove it from env',
    ]);
  });

  it('checks routes', () => {
    expect(problems(web('run: x\nhttp: { host: "https://App.example.com/x", path: api, affinity: header }'))).toEqual([
      '4:19 services.web.http.host: "https://App.example.com/x" is not a host name (lower case, no scheme, port or path); write app.example.com',
      '4:54 services.web.http.path: "api" is not a path prefix; write it from the root, e.g. /api',
      '4:69 services.web.http.affinity: header affinity needs the header name; write affinity: { header: X-Tenant }',
    ]);
    expect(problems(web('run: x\nhttp: { host: a.localhost, affinity: { header: 1 }, concurrency: { soft: 5, hard: 2 } }'))).toEqual([
      '4:52 services.web.http.affinity.header: expected text, got 1; write text',
      '4:78 services.web.http.concurrency.soft: soft limit 5 is above the hard limit 2; lower soft or raise hard',
    ]);
  });

  it('refuses a * other than a leading "*." label of a host, with the wildcard to write where there is one', () => {
    const host = (written: string) => problems(web(`run: x\nhttp: { host: "${written}" }`));
    expect(host('a.*.com')).toEqual(['4:19 services.web.http.host: "a.*.com" is not a host name; a wildcard is a leading "*." label, e.g. *.example.com']);
    expect(host('*')).toEqual(['4:19 services.web.http.host: "*" is not a host name; a wildcard is a leading "*." label, e.g. *.example.com']);
    expect(host('*.')).toEqual(['4:19 services.web.http.host: "*." is not a host name; a wildcard is a leading "*." label, e.g. *.example.com']);
    expect(host('*example.com')).toEqual(['4:19 services.web.http.host: "*example.com" is not a host name; a wildcard is a leading "*." label; write *.example.com']);
    expect(host('**.x.com')).toEqual(['4:19 services.web.http.host: "**.x.com" is not a host name; a wildcard is a leading "*." label; write *.x.com']);
    expect(host('*.*.example.com')).toEqual(['4:19 services.web.http.host: "*.*.example.com" is not a host name; a wildcard is a leading "*." label; write *.example.com']);
    expect(host('https://*.Example.com/')).toEqual(['4:19 services.web.http.host: "https://*.Example.com/" is not a host name (lower case, no scheme, port or path); write *.example.com']);
  });

  it('says to quote a wildcard host written without quotes (YAML reads a leading * as an alias)', () => {
    expect(problems(web('run: x\nhttp: { host: *.example.com, path: /api }'))).toEqual([
      '4:19 services.web.http.host: *.example.com reads as a YAML alias (a leading * names an anchor); quote it: "*.example.com"',
    ]);
    expect(problems(web('run: x\nhttp:\n  host: *.localhost'))).toEqual([
      '5:13 services.web.http.host: *.localhost reads as a YAML alias (a leading * names an anchor); quote it: "*.localhost"',
    ]);
    // the rest of the file is still checked: every problem at once
    expect(problems(web('run: x\nreplica: 2\nhttp: { host: *.example.com }\nports: [*p]'))).toEqual([
      '4:5 services.web.replica: unknown field; did you mean "replicas"?',
      '5:19 services.web.http.host: *.example.com reads as a YAML alias (a leading * names an anchor); quote it: "*.example.com"',
      '6:13 services.web.ports[0]: *p reads as a YAML alias (a leading * names an anchor); quote it: "*p"',
    ]);
    // an anchor before it makes it an alias, meant as one
    expect(problems('x-host: &h a.example.com\nservices:\n  web:\n    run: x\n    http: { host: *h }\n')).toContain('1:1 x-host: unknown field; remove it or use one of: version, services');
  });

  it('rejects a routing mode that breaks affinity or limits, naming http.mode and the fix', () => {
    expect(problems(web('run: x\nhttp: { host: a.localhost, mode: per-connection, affinity: cookie }'))).toEqual([
      '4:38 services.web.http.mode: per-connection picks the instance once per connection, but cookie affinity sets berth_affinity on every answer; write mode: per-request, or remove mode and the edge picks per-request',
    ]);
    expect(problems(web('run: x\nhttp:\n  host: a.localhost\n  mode: per-connection\n  affinity: { header: X-Tenant }\n  concurrency: { hard: 3 }'))).toEqual([
      '6:13 services.web.http.mode: per-connection picks the instance once per connection, but header affinity reads X-Tenant from every request and concurrency.hard counts requests; write mode: per-request, or remove mode and the edge picks per-request',
    ]);
    expect(problems(web('run: x\nhttp: { host: a.localhost, mode: per-request, concurrency: { type: connections, soft: 2, hard: 4 } }'))).toEqual([
      '4:38 services.web.http.mode: per-request counts requests, so concurrency.soft and concurrency.hard on connections (type: connections) would never bind; write mode: per-connection, or remove mode and the edge picks per-connection',
    ]);
  });

  it('rejects limits on connections with affinity that needs every request, whatever the mode', () => {
    expect(problems(web('run: x\nhttp: { host: a.localhost, affinity: cookie, concurrency: { type: connections, hard: 4 } }'))).toEqual([
      '4:71 services.web.http.concurrency.type: limits on connections need per-connection routing, but cookie affinity sets berth_affinity on every answer; set type: requests, or use affinity: ip',
    ]);
    // connections counted but not limited: nothing to enforce, so per-request is fine
    expect(problems(web('run: x\nhttp: { host: a.localhost, affinity: cookie, concurrency: { type: connections } }'))).toEqual([]);
  });

  it('checks balancer and queue', () => {
    expect(problems(web('run: x\nhttp: { host: a.localhost, balancer: random, queue: { limit: -1, timeout: 0s, size: 3 } }'))).toEqual([
      '4:42 services.web.http.balancer: "random" is not one of least-outstanding, round-robin; write one of them',
      '4:66 services.web.http.queue.limit: -1 is too small; write a number at least 0',
      '4:79 services.web.http.queue.timeout: "0s" is zero; write a positive duration, e.g. 10s',
      '4:83 services.web.http.queue.size: unknown field; remove it or use one of: limit, timeout',
    ]);
    expect(problems(web('run: x\nhttp: { host: a.localhost, queue: { limit: 10 } }'))).toEqual([
      '4:32 services.web.http.queue: holds what waits for concurrency.hard, which is not set; set concurrency.hard, or remove queue',
    ]);
  });

  it('checks the idle timeout of a TCP route', () => {
    expect(problems(web('run: x\ntcp: { port: 5432, idleTimeout: 0s }'))).toEqual([
      '4:37 services.web.tcp.idleTimeout: "0s" is zero; write a positive duration, e.g. 10s',
    ]);
    expect(problems(web('run: x\ntcp: { port: 5432, idleTimeout: 30d }'))).toEqual([
      '4:37 services.web.tcp.idleTimeout: "30d" is longer than 24d, the longest berth can wait; write at most 24d',
    ]);
    expect(problems(web('run: x\ntcp: { port: 5432, idleTimeout: 60 }'))).toEqual([
      '4:37 services.web.tcp.idleTimeout: "60" is not a duration; write a number with a unit (ms, s, m, h, d), e.g. 30s, 5m or 1h30m',
    ]);
  });

  it('refuses cookie and header affinity on a TCP route, naming affinity: ip as the fix', () => {
    const fix = 'write affinity: ip to keep a client address on one instance, or remove affinity';
    const cookie = `cookie affinity needs HTTP answers to carry the cookie, and a TCP connection has none; ${fix}`;
    const header = `header affinity reads an HTTP request header, and a TCP connection has none; ${fix}`;
    const affinity = (written: string) => problems(web(`run: x\ntcp: { port: 5432, affinity: ${written} }`));
    expect(affinity('cookie')).toEqual([`4:34 services.web.tcp.affinity: ${cookie}`]);
    expect(affinity('{ cookie: session }')).toEqual([`4:34 services.web.tcp.affinity: ${cookie}`]);
    expect(affinity('header')).toEqual([`4:34 services.web.tcp.affinity: ${header}`]);
    expect(affinity('{ header: X-Tenant }')).toEqual([`4:34 services.web.tcp.affinity: ${header}`]);
    expect(affinity('sticky')).toEqual([`4:34 services.web.tcp.affinity: "sticky" is not an affinity a TCP route can keep; ${fix}`]);
    // the parsed form, as the route table shows it
    expect(affinity('{ type: ip }')).toEqual(['4:34 services.web.tcp.affinity: is written as one word; write affinity: ip']);
  });

  it("checks a TCP route's balancer, limits and queue, every problem at once", () => {
    expect(problems(web('run: x\nreplicas: 1.5\ntcp: { port: 5432, balancer: round-robbin, concurrency: { type: requests, soft: 5, hard: 2 }, queue: { limit: -1 } }'))).toEqual([
      '4:15 services.web.replicas: 1.5 is not a whole number; write e.g. 2',
      '5:34 services.web.tcp.balancer: "round-robbin" is not one of least-outstanding, round-robin; did you mean round-robin?',
      '5:69 services.web.tcp.concurrency.type: a TCP route has no requests to count, only open connections; write type: connections, or remove type',
      '5:85 services.web.tcp.concurrency.soft: soft limit 5 is above the hard limit 2; lower soft or raise hard',
      '5:115 services.web.tcp.queue.limit: -1 is too small; write a number at least 0',
    ]);
    expect(problems(web('run: x\ntcp: { port: 5432, concurrency: { soft: 5 }, queue: { limit: 10 } }'))).toEqual([
      '4:50 services.web.tcp.queue: holds what waits for concurrency.hard, which is not set; set concurrency.hard, or remove queue',
    ]);
    // names other proxies (and http:) use
    expect(problems(web('run: x\ntcp: { port: 5432, limits: { hard: 3 }, mode: per-connection }'))).toEqual([
      '4:24 services.web.tcp.limits: unknown field; connection limits are written concurrency: { soft: 50, hard: 100 }',
      '4:45 services.web.tcp.mode: unknown field; a TCP route picks the instance once per connection, always; remove mode',
    ]);
  });

  it("refuses a TCP route's proxyProtocol other than v1 or v2, and proxyProtocol on an HTTP route", () => {
    const proxyProtocol = (written: string) => problems(web(`run: x\ntcp: { port: 5432, proxyProtocol: ${written} }`));
    expect(proxyProtocol('v3')).toEqual([
      '4:39 services.web.tcp.proxyProtocol: "v3" is not a PROXY protocol version; write v1 (a text line) or v2 (binary), whichever the instance reads',
    ]);
    expect(proxyProtocol('true')).toEqual([
      '4:39 services.web.tcp.proxyProtocol: true does not say which version; write proxyProtocol: v1 or proxyProtocol: v2, whichever the instance reads',
    ]);
    expect(proxyProtocol('false')).toEqual(['4:39 services.web.tcp.proxyProtocol: false is the default; remove proxyProtocol to send no header']);
    // as other proxies and HAProxy's own settings write them
    expect(proxyProtocol('2')).toEqual(['4:39 services.web.tcp.proxyProtocol: 2 is written v2; write proxyProtocol: v2']);
    expect(proxyProtocol('V1')).toEqual(['4:39 services.web.tcp.proxyProtocol: "V1" is written v1; write proxyProtocol: v1']);
    expect(proxyProtocol('send-proxy-v2')).toEqual(['4:39 services.web.tcp.proxyProtocol: "send-proxy-v2" is written v2; write proxyProtocol: v2']);
    expect(problems(web('run: x\nhttp: { host: a.localhost, proxyProtocol: v2 }'))).toEqual([
      '4:32 services.web.http.proxyProtocol: unknown field; an HTTP route already passes the client to the instance in X-Forwarded-For and Forwarded, and proxyProtocol is for tcp routes; remove it',
    ]);
  });

  it('checks deploy, stop, volumes and placement', () => {
    const text = web(`
run: x
deploy: { maxSurge: 0, minHealthy: 10m, maxUnavailable: 150% }
stop: { signal: SIGTREM }
volumes:
  - { name: data, mount: /data }
  - { name: data, mount: data }
placement: { reigon: eu }`);
    expect(problems(text)).toEqual([
      '4:5 services.web.deploy.healthyDeadline: 5m leaves no time to stay healthy for minHealthy 10m; raise healthyDeadline above minHealthy',
      '4:61 services.web.deploy.maxUnavailable: "150%" is above 100%; write at most 100%',
      '5:21 services.web.stop.signal: "SIGTREM" is not one of SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2; did you mean SIGTERM?',
      '8:17 services.web.volumes[1].name: volume data is listed twice; rename or remove one',
      '8:30 services.web.volumes[1].mount: "data" is not an absolute path; write e.g. /data',
      '9:18 services.web.placement.reigon: unknown field; did you mean "region"?',
    ]);
    expect(problems(web('run: x\ndeploy: { maxSurge: 0, minHealthy: 10m }'))).toEqual([
      '4:5 services.web.deploy.healthyDeadline: 5m leaves no time to stay healthy for minHealthy 10m; raise healthyDeadline above minHealthy',
      '4:25 services.web.deploy.maxSurge: maxSurge and maxUnavailable are both 0, so a rollout could never replace an instance; set maxSurge: 1',
    ]);
  });

  it('reports YAML syntax errors at their position', () => {
    expect(problems('services:\n  web:\n    run: x\n   replicas: 2\n')).toEqual([
      '4:1 : all mapping items must start at the same column; line it up with the fields beside it',
    ]);
    expect(problems('services:\n  web:\n    run: x\n    run: y\n')).toEqual([
      '4:5 services.web.run: run is given twice in this map, first on line 3; remove one of them',
    ]);
    expect(problems('services:\n  web:\n    run: x\n    volumes:\n      - { name: a, mount: /a, name: b }\n')).toEqual([
      '5:31 services.web.volumes[0].name: name is given twice in this map, first on line 5; remove one of them',
    ]);
    expect(problems('services:\n  web: { run: x\n')).toHaveLength(1);
    expect(problems('services:\n  web: { run: x }\n---\nservices: {}\n')).toEqual([
      '3:1 : the file holds more than one YAML document; keep one, without a "---" line between',
    ]);
  });

  it('reports an empty file, a wrong version and a list for services', () => {
    expect(problems('')).toEqual(['1:1 : the file is empty; write services: { web: { run: node server.js } }']);
    expect(problems('# nothing yet\n')).toEqual(['1:1 : the file is empty; write services: { web: { run: node server.js } }']);
    expect(problems('version: 2\nservices: []\n')).toEqual([
      '1:10 version: 2 is not supported; write 1 or leave it out',
      '2:11 services: expected a map, got a list; write a map',
    ]);
  });
});

describe('parseBerthFile: positions and quantities, for any input', () => {
  it('points at the bad value of whichever service has it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.nat(), fc.constantFrom('', ' ', '  '), (count, pick, pad) => {
        const bad = pick % count;
        const lines = ['services:'];
        let expected = { line: 0, col: 0 };
        for (let i = 0; i < count; i++) {
          lines.push(`  s${i}:`, '    run: x');
          const memory = i === bad ? '12XB' : '64Mi';
          const line = `    resources: {${pad}memory: ${memory} }`;
          if (i === bad) expected = { line: lines.length + 1, col: line.indexOf('12XB') + 1 };
          lines.push(line);
        }
        const result = parseBerthFile(lines.join('\n'));
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.error.map((i) => ({ line: i.line, col: i.col }))).toEqual([expected]);
      }),
    );
  });

  it('reads back any memory size core prints', () => {
    fc.assert(
      fc.property(fc.integer({ min: 4 * 2 ** 20, max: 2 ** 45 }), (bytes) => {
        const result = parseBerthFile(web(`run: x\nresources: { memory: ${formatSize(bytes)} }`));
        expect(result.ok && result.value.services.web?.resources.memory).toBe(bytes);
      }),
    );
  });
});

describe('checkServiceSpec', () => {
  it('checks one service given as data, with paths from the service', () => {
    expect(checkServiceSpec({ run: 'x', resources: { memory: '2Mi' } })).toEqual({
      ok: false,
      error: [{ path: ['resources', 'memory'], message: '"2Mi" is under the minimum of 4Mi; write at least 4Mi' }],
    });
    expect(checkServiceSpec({ run: 'x', ports: [80, 80], replicas: 1.5 })).toEqual({
      ok: false,
      error: [
        { path: ['replicas'], message: '1.5 is not a whole number; write e.g. 2' },
        { path: ['ports', 1], message: 'port 80 is listed twice; remove one' },
      ],
    });
    const ok = checkServiceSpec({ run: 'x', replicas: 3 });
    expect(ok.ok && ok.value.replicas).toBe(3);
  });
});

describe('docs/berth-yaml.md', () => {
  it('shows only examples that validate', () => {
    const doc = readFileSync(new URL('../../docs/berth-yaml.md', import.meta.url), 'utf8');
    const examples = [...doc.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((text) => text.includes('services:'));
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const text of examples) expect(problems(text)).toEqual([]);
  });
});
