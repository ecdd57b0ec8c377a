// One log line per request: method, path, status, duration and who asked. Headers, bodies and
// query strings stay out (they carry tokens, secrets and join tokens).
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ApiEnv } from './api-env.js';

export function requestLog(log: Logger): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const started = performance.now();
    c.set('log', log);
    await next();
    const principal = c.get('principal') as ApiEnv['Variables']['principal'] | undefined;
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const line = { method: c.req.method, path: c.req.path, status: c.res.status, ms, ...(principal ? { who: principal.name } : {}) };
    // Heartbeats and long-polls arrive every few seconds from every host: debug, unless they fail.
    if (c.res.status >= 500) log.error(line, 'request');
    else if (c.req.path.startsWith('/v1/agent/') && c.res.status < 400) log.debug(line, 'request');
    else log.info(line, 'request');
  };
}
