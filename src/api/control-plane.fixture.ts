// A control plane for tests: in-memory PGlite (or Postgres at BERTH_TEST_DATABASE_URL), a temporary data
// directory, an ephemeral port on 127.0.0.1, silent logs, and the few writes tests make straight
// to the store (a service with a release, a placement, a stop request).
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino, { type Logger } from 'pino';
import { BerthClient } from '../client/berth-client.js';
import { serviceDecider, type ServiceCommand } from '../domain/service.js';
import { serviceStream } from '../domain/streams.js';
import { serviceSpecSchema, type ServiceSpec } from '../spec/service.js';
import { handleCommand } from '../store/command-handler.js';
import { EventStore } from '../store/event-store.js';
import { openPgliteDriver } from '../store/pglite-driver.js';
import { openPostgresDriver } from '../store/postgres-driver.js';
import type { SqlDriver } from '../store/sql-driver.js';
import { testDatabaseUrl, testServerUrl } from '../store/test-database.fixture.js';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
import { parseListenAddress } from './listen-address.js';

export interface TestControlPlane extends ControlPlane {
  readonly dataDir: string;
  readonly adminToken: string;
  readonly admin: BerthClient;
  createService(name: string, spec: Partial<Record<keyof ServiceSpec, unknown>> & { run: string }, digest: string): Promise<void>;
  place(service: string, instance: string, host: string, options?: { release?: number; replica?: number; port?: number | null }): Promise<void>;
  requestStop(service: string, instance: string, reason?: string): Promise<void>;
}

/**
 * On Postgres, each test file has a database of its own (test-database.fixture.ts) and each data
 * directory a schema in it, so control planes of one file meet only when they share a directory.
 */
const schemaOf = (dataDir: string): string => `berth_test_${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`;

async function openDatabase(dataDir: string, persistent: boolean): Promise<SqlDriver> {
  if (testServerUrl !== undefined) return openPostgresDriver(await testDatabaseUrl(), { schema: schemaOf(dataDir) });
  return openPgliteDriver(persistent ? join(dataDir, 'db') : undefined);
}

/** Removes what the tests of `dataDir` left on Postgres; nothing to do on PGlite. */
export async function dropTestDatabase(dataDir: string): Promise<void> {
  if (testServerUrl === undefined) return;
  const driver = await openPostgresDriver(await testDatabaseUrl());
  await driver.query(`DROP SCHEMA IF EXISTS ${schemaOf(dataDir)} CASCADE`);
  await driver.close();
}

/**
 * `dataDir` given: the database outlives close() (PGlite on disk in it, or its own schema on
 * Postgres), so a control plane started again on it and on the same `port` comes back with its
 * state, as after a restart; the caller removes it with dropTestDatabase. Otherwise close()
 * removes everything.
 */
export async function startTestControlPlane(
  options: { dataDir?: string; port?: number; log?: Logger; controlLoops?: ControlPlaneOptions['controlLoops'] } = {},
): Promise<TestControlPlane> {
  const persistent = options.dataDir !== undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'berth-cp-')));
  const store = await EventStore.open(await openDatabase(dataDir, persistent));
  const cp = await startControlPlane({ store, dataDir, listen: parseListenAddress(`127.0.0.1:${options.port ?? 0}`), log: options.log ?? pino({ level: 'silent' }),
    // Off unless asked for: most API tests write placements themselves and the loops would undo them.
    controlLoops: options.controlLoops ?? false,
  });
  const adminToken = (await readFile(cp.adminTokenPath, 'utf8')).trim();
  const run = (service: string, command: ServiceCommand) => handleCommand(store, serviceStream(service), serviceDecider, command);
  return {
    ...cp,
    dataDir,
    adminToken,
    admin: new BerthClient({ url: cp.url, token: adminToken }),
    async createService(name, raw, digest) {
      const spec = serviceSpecSchema.parse(raw);
      await run(name, { type: 'CreateService', name, tenant: 'default', spec });
      await run(name, { type: 'CreateRelease', digest, spec, secretNames: [...spec.secrets] });
    },
    async place(service, instance, host, o = {}) {
      await run(service, { type: 'PlaceInstance', instance, host, release: o.release ?? 1, port: o.port ?? null, replica: o.replica ?? 0 });
    },
    async requestStop(service, instance, reason = 'test') {
      await run(service, { type: 'RequestInstanceStop', instance, reason });
    },
    async close() {
      await cp.close();
      if (persistent) return;
      await dropTestDatabase(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestReplicas {
  readonly a: TestControlPlane;
  readonly b: TestControlPlane;
  close(): Promise<void>;
}

/**
 * Two replicas on one data directory (one schema, one secret key, one admin token), as `berth
 * server` replicas share a database; Postgres only (BERTH_TEST_DATABASE_URL). Control loops run
 * when `controlLoops` is given, with a quick leader retry unless it says otherwise.
 */
export async function startTestReplicas(controlLoops?: Exclude<ControlPlaneOptions['controlLoops'], false | undefined>): Promise<TestReplicas> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-replicas-'));
  const options = { dataDir, ...(controlLoops === undefined ? {} : { controlLoops: { leaderRetryMs: 200, ...controlLoops } }) };
  const a = await startTestControlPlane(options);
  const b = await startTestControlPlane(options);
  return {
    a,
    b,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await dropTestDatabase(dataDir);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` every 50 ms until it gives a value; fails naming `what` after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
