// The contract every SQL driver under the event store must keep. Run by one test file per driver
// (event-store.pglite.test.ts, event-store.postgres.test.ts). Tests share one database per file
// and keep apart by stream ids and log positions, so they also pass on a database in use.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConflictError } from '../core/errors.js';
import type { BerthEvent } from '../domain/events.js';
import { hostDecider, type HostCommand } from '../domain/host.js';
import { serviceDecider, type ServiceCommand } from '../domain/service.js';
import { hostStream, serviceStream, volumeStream } from '../domain/streams.js';
import { serviceSpecSchema } from '../spec/service.js';
import { handleCommand } from './command-handler.js';
import { EventStore } from './event-store.js';
import { inlineProjections } from './inline-projections.js';
import { comparePositions, LOG_START, type LogPosition } from './log-position.js';
import { migrate, migrations } from './migrations.js';
import { applyProjections } from './projection.js';
import { rebuildProjections } from './rebuild.js';
import type { SqlDriver } from './sql-driver.js';

export interface DriverUnderTest {
  open(): Promise<SqlDriver>;
  /** False for PGlite: one connection, so no transaction is ever open beside another. */
  readonly concurrentTransactions: boolean;
}

const spec = serviceSpecSchema.parse({ run: 'node server.js', http: { host: 'web.example.com' } });
const replicasSet = (replicas: number): BerthEvent => ({ type: 'ReplicasSet', data: { replicas } });
const unique = (prefix: string): string => `${prefix}${randomUUID().slice(0, 8)}`;

/**
 * The position of the last event committed in this store, read from the table: events appended
 * after it are the test's own. Not through readAll: that stops below the oldest transaction still
 * open in the database, which on a shared Postgres may belong to another test file's schema, so
 * the end it reaches can lie before this store's latest events, and a test would then read those
 * as its own.
 */
async function logEnd(store: EventStore): Promise<LogPosition> {
  const [last] = await store.driver.query<{ tx_id: number; global_position: number }>(
    'SELECT tx_id::text::bigint AS tx_id, global_position FROM events ORDER BY tx_id DESC, global_position DESC LIMIT 1',
  );
  return last === undefined ? LOG_START : { txId: Number(last.tx_id), globalPosition: Number(last.global_position) };
}

async function readUntil(store: EventStore, after: LogPosition, count: number, timeoutMs = 20_000): Promise<ReturnType<EventStore['readAll']>> {
  const seen: Awaited<ReturnType<EventStore['readAll']>> = [];
  const deadline = Date.now() + timeoutMs;
  let position = after;
  while (seen.length < count && Date.now() < deadline) {
    const batch = await store.readAll({ after: position, limit: 1000 });
    for (const e of batch) {
      seen.push(e);
      position = { txId: e.txId, globalPosition: e.globalPosition };
    }
    if (batch.length === 0) await new Promise((r) => setTimeout(r, 5));
  }
  return seen;
}

const snapshotProjections = async (driver: SqlDriver): Promise<Record<string, unknown[]>> => {
  const tables: Record<string, unknown[]> = {};
  for (const p of inlineProjections) {
    tables[p.table] = (await driver.query<{ row: unknown }>(`SELECT to_jsonb(t) AS row FROM ${p.table} t ORDER BY id`)).map((r) => r.row);
  }
  return tables;
};

export function eventStoreContract(name: string, driverUnderTest: DriverUnderTest): void {
  describe(`event store on ${name}`, () => {
    let store: EventStore;

    beforeAll(async () => {
      store = await EventStore.open(await driverUnderTest.open());
    });
    afterAll(async () => {
      await store?.close();
    });

    describe('migrations', () => {
      test('are recorded and not applied twice', async () => {
        const rows = await store.driver.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
        expect(rows.map((r) => r.version)).toEqual(migrations.map((m) => m.version));
        expect(await migrate(store.driver)).toEqual([]);
      });

      test('projection columns are exactly the tables’ columns', async () => {
        for (const p of inlineProjections) {
          const rows = await store.driver.query<{ column_name: string }>(
            `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
            [p.table],
          );
          expect(rows.map((r) => r.column_name).sort(), p.table).toEqual([...p.columns].sort());
        }
      });
    });

    describe('append and read a stream', () => {
      test('versions start at 1 and follow the expected version', async () => {
        const stream = serviceStream(unique('svc-'));
        const first = await store.append(stream, [replicasSet(1)], { expectedVersion: 0, metadata: { actor: 'test' } });
        expect(first.nextExpectedVersion).toBe(1);
        const second = await store.append(stream, [replicasSet(2), replicasSet(3)], { expectedVersion: 1 });
        expect(second.nextExpectedVersion).toBe(3);
        const { version, events } = await store.readStream(stream);
        expect(version).toBe(3);
        expect(events.map((e) => [e.streamVersion, e.type, e.data])).toEqual([
          [1, 'ReplicasSet', { replicas: 1 }],
          [2, 'ReplicasSet', { replicas: 2 }],
          [3, 'ReplicasSet', { replicas: 3 }],
        ]);
        expect(events[0]?.metadata).toEqual({ actor: 'test' });
        expect(events[0]?.at).toBeInstanceOf(Date);
        expect((await store.readStream(stream, { after: 2 })).events.map((e) => e.streamVersion)).toEqual([3]);
      });

      test('a wrong expected version is a ConflictError and appends nothing', async () => {
        const stream = serviceStream(unique('svc-'));
        await store.append(stream, [replicasSet(1)], { expectedVersion: 0 });
        for (const expectedVersion of [0, 2]) {
          const error = await store.append(stream, [replicasSet(9)], { expectedVersion }).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(ConflictError);
          expect((error as ConflictError).details).toMatchObject({ streamId: stream, expectedVersion, actualVersion: 1 });
        }
        expect(await store.streamVersion(stream)).toBe(1);
      });

      test('expected version any appends after whatever is there', async () => {
        const stream = serviceStream(unique('svc-'));
        await store.append(stream, [replicasSet(1)], { expectedVersion: 'any' });
        const result = await store.append(stream, [replicasSet(2)], { expectedVersion: 'any' });
        expect(result.nextExpectedVersion).toBe(2);
      });

      test('a batch lands in order, with consecutive versions and rising positions', async () => {
        const stream = serviceStream(unique('svc-'));
        const batch = Array.from({ length: 100 }, (_, i) => replicasSet(i));
        const { events } = await store.append(stream, batch, { expectedVersion: 0 });
        expect(events.map((e) => e.streamVersion)).toEqual(batch.map((_, i) => i + 1));
        const read = (await store.readStream(stream)).events;
        expect(read.map((e) => e.data)).toEqual(batch.map((e) => e.data));
        expect(read.map((e) => e.globalPosition)).toEqual(events.map((e) => e.globalPosition));
        expect(new Set(read.map((e) => e.txId)).size).toBe(1);
      });

      test('an empty append only checks the version', async () => {
        const stream = serviceStream(unique('svc-'));
        expect((await store.append(stream, [], { expectedVersion: 0 })).nextExpectedVersion).toBe(0);
        await expect(store.append(stream, [], { expectedVersion: 3 })).rejects.toBeInstanceOf(ConflictError);
      });

      test('an unknown stream reads as version 0', async () => {
        expect(await store.readStream(serviceStream(unique('none-')))).toEqual({ version: 0, events: [] });
      });
    });

    describe('the global log', () => {
      test('reads in commit order, page by page', async () => {
        const start = await logEnd(store);
        const a = serviceStream(unique('a-'));
        const b = hostStream(unique('b-'));
        await store.append(a, [replicasSet(1)], { expectedVersion: 0 });
        await store.append(b, [{ type: 'HostCordoned', data: { reason: 'x' } }], { expectedVersion: 'any' });
        await store.append(a, [replicasSet(2)], { expectedVersion: 1 });
        const all = await readUntil(store, start, 3);
        expect(all.map((e) => `${e.streamId}@${e.streamVersion}`)).toEqual([`${a}@1`, `${b}@1`, `${a}@2`]);
        const first = await store.readAll({ after: start, limit: 1 });
        expect(first).toHaveLength(1);
        const rest = await store.readAll({ after: { txId: first[0]!.txId, globalPosition: first[0]!.globalPosition } });
        expect(rest.map((e) => e.globalPosition)).toEqual(all.slice(1).map((e) => e.globalPosition));
      });

      test.runIf(driverUnderTest.concurrentTransactions)('does not read past a transaction still open', async () => {
        const start = await logEnd(store);
        const early = serviceStream(unique('early-'));
        const late = serviceStream(unique('late-'));
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let inserted!: () => void;
        const wasInserted = new Promise<void>((r) => (inserted = r));
        // A writer takes a position, then stays open while a later writer commits.
        const slow = store.driver.transaction(async (tx) => {
          await tx.query(`INSERT INTO events (stream_id, stream_version, type, data) VALUES ($1, 1, 'ReplicasSet', '{"replicas":1}')`, [early]);
          inserted();
          await held;
        });
        await wasInserted;
        await store.append(late, [replicasSet(2)], { expectedVersion: 0 });
        // The later commit is held back: reading it now would move the reader past the open gap.
        expect(await store.readAll({ after: start })).toEqual([]);
        release();
        await slow;
        const seen = await readUntil(store, start, 2);
        expect(seen.map((e) => e.streamId)).toEqual([early, late]);
      });

      test('a reader under concurrent commits sees every event exactly once, in commit order', async () => {
        const start = await logEnd(store);
        const writers = 8;
        const appendsEach = 25;
        const streams = Array.from({ length: writers }, () => serviceStream(unique('w-')));
        let done = false;
        const seen: Awaited<ReturnType<EventStore['readAll']>> = [];
        const reader = (async () => {
          let position = start;
          const deadline = Date.now() + 15_000;
          while ((!done || seen.length < writers * appendsEach) && Date.now() < deadline) {
            const batch = await store.readAll({ after: position, limit: 50 });
            for (const e of batch) {
              seen.push(e);
              position = { txId: e.txId, globalPosition: e.globalPosition };
            }
            if (done && batch.length === 0 && seen.length < writers * appendsEach) await new Promise((r) => setTimeout(r, 5));
          }
        })();
        await Promise.all(
          streams.map(async (stream) => {
            for (let i = 0; i < appendsEach; i++) await store.append(stream, [replicasSet(i)], { expectedVersion: i });
          }),
        );
        done = true;
        await reader;
        const ids = seen.map((e) => `${e.streamId}@${e.streamVersion}`);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.length).toBe(writers * appendsEach);
        for (let i = 1; i < seen.length; i++) expect(comparePositions(seen[i - 1]!, seen[i]!)).toBeLessThan(0);
      });

      test('subscribers get the past, then new events as they commit', async () => {
        const start = await logEnd(store);
        const stream = serviceStream(unique('sub-'));
        await store.append(stream, [replicasSet(1)], { expectedVersion: 0 });
        const abort = new AbortController();
        const got: number[] = [];
        const consumer = (async () => {
          for await (const event of store.subscribe({ after: start, signal: abort.signal, pollIntervalMs: 50 })) {
            if (event.streamId !== stream) continue;
            got.push(event.streamVersion);
            if (got.length === 3) abort.abort();
          }
        })();
        await store.append(stream, [replicasSet(2)], { expectedVersion: 1 });
        await store.append(stream, [replicasSet(3)], { expectedVersion: 2 });
        await consumer;
        expect(got).toEqual([1, 2, 3]);
      });

      test.runIf(driverUnderTest.concurrentTransactions)('a subscriber elsewhere is woken by NOTIFY, not by its poll', async () => {
        const other = await EventStore.open(await driverUnderTest.open());
        try {
          const start = await logEnd(store);
          const stream = serviceStream(unique('notify-'));
          const abort = new AbortController();
          const received = (async () => {
            for await (const event of other.subscribe({ after: start, signal: abort.signal, pollIntervalMs: 60_000 })) {
              if (event.streamId === stream) return performance.now();
            }
            return undefined;
          })();
          // Let the subscriber find nothing and go to sleep before the append.
          await new Promise((r) => setTimeout(r, 300));
          const appendedAt = performance.now();
          await store.append(stream, [replicasSet(1)], { expectedVersion: 0 });
          const timer = setTimeout(() => abort.abort(), 10_000);
          const at = await received;
          clearTimeout(timer);
          abort.abort();
          expect(at).toBeDefined();
          expect((at ?? Infinity) - appendedAt).toBeLessThan(10_000);
        } finally {
          await other.close();
        }
      });
    });

    describe('concurrent writers on one stream', () => {
      test('exactly one wins each version; no event is lost or doubled', async () => {
        const stream = serviceStream(unique('race-'));
        const writers = 12;
        const appendsEach = 8;
        const won: number[] = [];
        let conflicts = 0;
        await Promise.all(
          Array.from({ length: writers }, async (_, writer) => {
            for (let i = 0; i < appendsEach; ) {
              const version = await store.streamVersion(stream);
              try {
                const result = await store.append(stream, [{ type: 'ReplicasSet', data: { replicas: writer * 100 + i } }], {
                  expectedVersion: version,
                });
                won.push(result.nextExpectedVersion);
                i++;
              } catch (error) {
                if (!(error instanceof ConflictError)) throw error;
                conflicts++;
              }
            }
          }),
        );
        const total = writers * appendsEach;
        expect(won.sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        const { events } = await store.readStream(stream);
        expect(events.map((e) => e.streamVersion)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        const payloads = events.map((e) => (e.data as { replicas: number }).replicas).sort((a, b) => a - b);
        const expected = Array.from({ length: writers }, (_, w) => Array.from({ length: appendsEach }, (_, i) => w * 100 + i)).flat();
        expect(payloads).toEqual(expected.sort((a, b) => a - b));
        if (driverUnderTest.concurrentTransactions) expect(conflicts).toBeGreaterThan(0);
      });

      test('the command handler retries a conflict and both commands land', async () => {
        const id = unique('svc-');
        const stream = serviceStream(id);
        await handleCommand(store, stream, serviceDecider, { type: 'CreateService', name: id, tenant: 'acme', spec });
        await handleCommand(store, stream, serviceDecider, { type: 'CreateRelease', digest: 'sha256:1', spec, secretNames: [] });
        const places = Array.from({ length: 10 }, (_, i) =>
          handleCommand(store, stream, serviceDecider, { type: 'PlaceInstance', instance: `${id}-${i}`, host: 'h1', release: 1, port: null, replica: i }),
        );
        await Promise.all(places);
        const { state } = await handleCommand(store, stream, serviceDecider, { type: 'SetReplicas', replicas: 10 });
        expect(Object.keys(state.instances)).toHaveLength(10);
      });

      test('the command handler throws a refused rule without appending', async () => {
        const stream = serviceStream(unique('svc-'));
        await expect(handleCommand(store, stream, serviceDecider, { type: 'SetReplicas', replicas: 1 })).rejects.toMatchObject({ code: 'not_found' });
        expect(await store.streamVersion(stream)).toBe(0);
      });
    });

    describe('inline projections', () => {
      test('follow the log and rebuild to the same rows', async () => {
        const svc = unique('web-');
        const host = unique('host-');
        const s = serviceStream(svc);
        const h = hostStream(host);
        const onHost = (command: HostCommand) => handleCommand(store, h, hostDecider, command);
        const onService = (command: ServiceCommand) => handleCommand(store, s, serviceDecider, command);
        await onHost({ type: 'EnrollHost', name: host, address: '10.0.0.1:7070', region: 'fra', capacity: { memory: 2 ** 33, cpu: 4000 }, labels: { disk: 'ssd' } });
        await onService({ type: 'CreateService', name: svc, tenant: 'acme', spec });
        await onService({ type: 'CreateRelease', digest: 'sha256:1', spec, secretNames: ['DB_URL'] });
        await onService({ type: 'StartRollout', release: 1 });
        await onService({ type: 'PlaceInstance', instance: `${svc}-a`, host, release: 1, port: 40_000, replica: 0 });
        await onService({ type: 'PlaceInstance', instance: `${svc}-b`, host, release: 1, port: 40_001, replica: 1 });
        await onService({ type: 'CompleteRollout', release: 1 });
        await onService({ type: 'SetScale', scale: { min: 1, max: 3, target: { type: 'rps', value: 50 } } });
        await onService({ type: 'RequestInstanceStop', instance: `${svc}-b`, reason: 'scale-in' });
        await onHost({ type: 'DrainHost', deadline: new Date(Date.now() + 60_000), maxParallel: 1, now: new Date() });
        const volume = volumeStream(unique('vol-'));
        await store.append(volume, [{ type: 'VolumeCreated', data: { name: 'pgdata', tenant: 'acme', service: svc, host, size: 2 ** 30 } }], { expectedVersion: 0 });
        await store.append(volume, [{ type: 'VolumeBackedUp', data: { backup: 'b-1', size: 2 ** 20 } }], { expectedVersion: 1 });

        const service = await store.driver.query<Record<string, unknown>>('SELECT * FROM services WHERE id = $1', [svc]);
        expect(service[0]).toMatchObject({ name: svc, tenant: 'acme', status: 'active', replicas: 1, active_release: 1, latest_release: 1, rollout: null });
        expect(service[0]?.scale).toEqual({ min: 1, max: 3, target: { type: 'rps', value: 50 } });
        const instances = await store.driver.query<Record<string, unknown>>('SELECT id, host_id, stop_reason FROM instances WHERE service_id = $1 ORDER BY id', [svc]);
        expect(instances).toEqual([
          { id: `${svc}-a`, host_id: host, stop_reason: null },
          { id: `${svc}-b`, host_id: host, stop_reason: 'scale-in' },
        ]);
        const releases = await store.driver.query<Record<string, unknown>>('SELECT version, secret_names, rolled_out_at FROM releases WHERE service_id = $1', [svc]);
        expect(releases).toMatchObject([{ version: 1, secret_names: ['DB_URL'] }]);
        expect(releases[0]?.rolled_out_at).toBeInstanceOf(Date);
        const hosts = await store.driver.query<Record<string, unknown>>('SELECT memory, cordoned, status, drain FROM hosts WHERE id = $1', [host]);
        expect(hosts).toMatchObject([{ memory: 2 ** 33, cordoned: true, status: 'active', drain: { maxParallel: 1 } }]);

        const volumes = await store.driver.query<Record<string, unknown>>('SELECT name, size, status, last_backup FROM volumes WHERE host_id = $1', [host]);
        expect(volumes).toEqual([{ name: 'pgdata', size: 2 ** 30, status: 'active', last_backup: 'b-1' }]);

        const live = await snapshotProjections(store.driver);
        expect((await rebuildProjections(store.driver, inlineProjections)).events).toBeGreaterThan(0);
        expect(await snapshotProjections(store.driver)).toEqual(live);
      });

      test('applying events again changes nothing', async () => {
        const svc = unique('web-');
        const s = serviceStream(svc);
        await handleCommand(store, s, serviceDecider, { type: 'CreateService', name: svc, tenant: 'acme', spec });
        await handleCommand(store, s, serviceDecider, { type: 'SetReplicas', replicas: 4 });
        const before = await snapshotProjections(store.driver);
        const { events } = await store.readStream(s);
        await store.driver.transaction((tx) => applyProjections(tx, inlineProjections, events));
        expect(await snapshotProjections(store.driver)).toEqual(before);
      });
    });
  });
}
