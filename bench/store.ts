// `npm run bench:store`: events appended per second through the event store, projections on,
// on PGlite (in a temporary data directory) and on a local Postgres, and prints one JSON object.
//   single: one event per append (one transaction each), InstancePlaced and ReplicasSet in turn,
//           from several writers on their own service streams at once, each with its expected version
//   batch:  100 InstancePlaced per append (a scale-up), from fewer writers
// Postgres comes from BERTH_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test),
// in a schema of its own that is dropped afterwards. --seconds N sets each measurement's length.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BerthEvent } from '../src/domain/events.js';
import { serviceStream } from '../src/domain/streams.js';
import { serviceSpecSchema } from '../src/spec/service.js';
import { EventStore } from '../src/store/event-store.js';
import { openPgliteDriver } from '../src/store/pglite-driver.js';
import { openPostgresDriver } from '../src/store/postgres-driver.js';
import type { SqlDriver } from '../src/store/sql-driver.js';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 3;
const BATCH = 100;
const url = process.env.BERTH_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const spec = serviceSpecSchema.parse({ run: 'node server.js', http: { host: 'bench.example.com' } });

interface Rate {
  readonly eventsPerSecond: number;
  readonly events: number;
  readonly writers: number;
}

async function measure(store: EventStore, run: string, writers: number, batch: number): Promise<Rate> {
  const streams = Array.from({ length: writers }, (_, w) => serviceStream(`${run}-${w}`));
  const versions = new Map<string, number>();
  for (const stream of streams) {
    const created = await store.append(
      stream,
      [
        { type: 'ServiceCreated', data: { name: stream, tenant: 'bench', spec } },
        { type: 'ReleaseCreated', data: { version: 1, digest: 'sha256:bench', spec, secretNames: [] } },
      ],
      { expectedVersion: 0 },
    );
    versions.set(stream, created.nextExpectedVersion);
  }
  let events = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    streams.map(async (stream) => {
      let n = 0;
      while (performance.now() < until) {
        const placed: BerthEvent[] = Array.from({ length: batch }, () => {
          n++;
          // Single appends alternate a new row (a placement) and a change to an existing one (the
          // service's replica count), which costs the projection a read before its write.
          return batch === 1 && n % 2 === 0
            ? { type: 'ReplicasSet', data: { replicas: n } }
            : { type: 'InstancePlaced', data: { instance: `${stream}-${n}`, host: 'bench-host', release: 1, port: 40_000 + (n % 20_000), replica: n } };
        });
        const result = await store.append(stream, placed, { expectedVersion: versions.get(stream) ?? 0 });
        versions.set(stream, result.nextExpectedVersion);
        events += batch;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { eventsPerSecond: Math.round(events / seconds), events, writers };
}

async function bench(driver: SqlDriver, writers: { single: number; batch: number }): Promise<Record<string, Rate>> {
  const store = await EventStore.open(driver);
  try {
    return {
      single: await measure(store, 'single', writers.single, 1),
      batch: await measure(store, 'batch', writers.batch, BATCH),
    };
  } finally {
    await store.close();
  }
}

const result: Record<string, unknown> = {
  benchmark: 'store',
  seconds: SECONDS,
  batchSize: BATCH,
  events: { single: 'InstancePlaced and ReplicasSet in turn', batch: 'InstancePlaced' },
  projections: 'inline: services, releases, hosts, instances, volumes',
};

const dir = await mkdtemp(join(tmpdir(), 'berth-bench-'));
try {
  // PGlite runs one transaction at a time in this process: more writers only queue.
  result.pglite = await bench(await openPgliteDriver(dir), { single: 1, batch: 1 });
} finally {
  await rm(dir, { recursive: true, force: true });
}

const schema = `berth_bench_${process.pid}`;
try {
  // Writers on separate streams commit in parallel; the pool holds one connection per writer.
  result.postgres = await bench(await openPostgresDriver(url, { schema, maxConnections: 16 }), { single: 16, batch: 8 });
} catch (error) {
  result.postgres = { error: error instanceof Error ? error.message : String(error), url };
} finally {
  const admin = await openPostgresDriver(url).catch(() => undefined);
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => {});
  await admin?.close();
}

process.stdout.write(`${JSON.stringify(result)}\n`);
