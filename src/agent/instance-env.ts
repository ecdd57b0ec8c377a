// The environment an instance (and its exec probes) runs with. It does not inherit the agent's
// environment, which holds the agent's own credentials; only a few host settings pass through.
// Precedence, lowest first: host settings, service env, secrets, then PORT and BERTH_*, which
// are berth's contract with the app and cannot be overridden.
import type { InstanceSpec } from './instance-spec.js';

const FROM_HOST = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'] as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function instanceEnv(spec: InstanceSpec, host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { PATH: DEFAULT_PATH };
  for (const name of FROM_HOST) {
    const value = host[name];
    if (value !== undefined) env[name] = value;
  }
  return {
    ...env,
    ...spec.env,
    ...spec.secrets,
    PORT: String(spec.port),
    BERTH_SERVICE: spec.service,
    BERTH_INSTANCE: spec.id,
    BERTH_RELEASE: spec.release,
    BERTH_REPLICA: String(spec.replica),
  };
}
