// What the process driver remembers of an instance on disk (`<data>/instances/<id>/instance.json`),
// so the next agent can adopt it: the spec without its secrets, the cgroup, and the identity of
// the running process (pid + start time from /proc/<pid>/stat field 22 + boot id; a recycled pid
// has another start time). Written atomically (temp file + rename), readable by root only.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceExit, InstanceState } from '../../driver.js';
import type { CgroupPaths } from '../../cgroup.js';
import type { InstanceSpec } from '../../instance-spec.js';

export interface RecordedRun {
  readonly pid: number;
  readonly startTime: number;
  readonly bootId: string;
  /** epoch ms */
  readonly startedAt: number;
}

export interface InstanceRecord {
  readonly version: 1;
  /** the spec with `secrets` removed: never on disk */
  readonly spec: Omit<InstanceSpec, 'secrets'>;
  /** names only, to know whether a restart must wait for the agent to hand the values again */
  readonly secretNames: readonly string[];
  readonly desired: 'running' | 'stopped';
  readonly state: InstanceState;
  readonly run?: RecordedRun;
  readonly cgroup?: CgroupPaths;
  readonly restarts: number;
  readonly lastExit?: InstanceExit;
}

export const instancesDir = (dataDir: string) => join(dataDir, 'instances');
export const instanceDir = (dataDir: string, id: string) => join(instancesDir(dataDir), id);

export function withoutSecrets(spec: InstanceSpec): Omit<InstanceSpec, 'secrets'> {
  const { secrets: _secrets, ...rest } = spec;
  return rest;
}

export async function writeRecord(dir: string, record: InstanceRecord): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'instance.json');
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, JSON.stringify(record, null, 2), { mode: 0o600 });
  await rename(temp, file);
}

export async function readRecord(dir: string): Promise<InstanceRecord> {
  const record = JSON.parse(await readFile(join(dir, 'instance.json'), 'utf8')) as InstanceRecord;
  if (record.version !== 1 || typeof record.spec?.id !== 'string') throw new Error(`${join(dir, 'instance.json')} is not an instance record of this berth version`);
  return record;
}

/** Ids of every recorded instance. */
export async function recordedIds(dataDir: string): Promise<string[]> {
  const entries = await readdir(instancesDir(dataDir), { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isDirectory()).map((e) => e.name);
}

export const removeInstanceDir = (dir: string) => rm(dir, { recursive: true, force: true });
