// What a driver needs to run one instance: the assignment the agent received, resolved to a
// command, a directory, an environment and limits. Secrets ride along in memory only.
import { ValidationError } from '../core/errors.js';
import type { Resources } from '../core/resources.js';
import type { StopSpec } from '../spec/deploy.js';
import type { Health } from '../spec/probe.js';

export interface RestartPolicy {
  /** on-failure: after a non-zero exit, a signal, an OOM kill or a failed liveness probe */
  readonly when: 'always' | 'on-failure' | 'never';
  /** ms before the first restart after a crash; doubles with each crash in a row */
  readonly initialDelay: number;
  readonly maxDelay: number;
  /** ms an instance must have stayed up for its next crash to wait initialDelay again */
  readonly resetAfter: number;
}

export const DEFAULT_RESTART: RestartPolicy = { when: 'always', initialDelay: 1_000, maxDelay: 30_000, resetAfter: 10_000 };
export const DEFAULT_STOP: StopSpec = { signal: 'SIGTERM', grace: 30_000 };

export interface InstanceSpec {
  /** unique on the host; names the instance's directory and cgroup */
  readonly id: string;
  readonly service: string;
  readonly release: string;
  readonly replica: number;
  /** run with /bin/sh -c */
  readonly command: string;
  /** the unpacked release directory */
  readonly cwd: string;
  readonly env?: Readonly<Record<string, string>>;
  /** given to the process as env vars; held in memory only, never written or logged */
  readonly secrets?: Readonly<Record<string, string>>;
  /** $PORT, allocated by the agent (see PortAllocator) */
  readonly port: number;
  /** memory in bytes is a hard cap; cpu in millicores becomes a weight */
  readonly resources: Resources;
  /** most processes and threads the instance may hold (fork-bomb guard); unlimited when omitted */
  readonly pids?: number;
  readonly stop?: StopSpec;
  readonly restart?: RestartPolicy;
  readonly health?: Health;
}

const INSTANCE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

/** Throws a ValidationError naming the field, the value and the fix; the rest of the driver trusts the spec. */
export function validateInstanceSpec(spec: InstanceSpec): void {
  const fail = (field: string, problem: string) => {
    throw new ValidationError(`instance ${JSON.stringify(spec.id)} ${field}: ${problem}`, { field });
  };
  if (!INSTANCE_ID.test(spec.id)) fail('id', 'must be 1-128 of letters, digits, "_", "." and "-", starting with a letter or digit (it names a directory and a cgroup)');
  if (spec.command.trim() === '') fail('command', 'is empty; give the shell command that starts the instance');
  if (!spec.cwd.startsWith('/')) fail('cwd', `"${spec.cwd}" is not absolute; give the release directory's full path`);
  if (!Number.isInteger(spec.port) || spec.port < 1 || spec.port > 65535) fail('port', `${spec.port} is not a port; allocate one with PortAllocator`);
  if (!Number.isInteger(spec.resources.memory) || spec.resources.memory < 0) fail('resources.memory', `${spec.resources.memory} is not a byte count`);
  if (!Number.isInteger(spec.resources.cpu) || spec.resources.cpu < 0) fail('resources.cpu', `${spec.resources.cpu} is not a number of millicores`);
  if (spec.pids !== undefined && (!Number.isInteger(spec.pids) || spec.pids < 1)) fail('pids', `${spec.pids} is not a positive count; omit it for no limit`);
  const restart = spec.restart;
  if (restart && !(restart.initialDelay > 0 && restart.maxDelay >= restart.initialDelay && restart.resetAfter >= 0)) {
    fail('restart', 'needs initialDelay > 0, maxDelay >= initialDelay and resetAfter >= 0 (all in ms)');
  }
}
