// The schema, as numbered migrations applied in order at start. A migration, once released,
// never changes: a change to the schema is a new entry at the end.
import type { SqlDriver } from './sql-driver.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  /** One statement each: the extended protocol both drivers use takes a single statement. */
  readonly statements: readonly string[];
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    statements: [
      `CREATE TABLE events (
        global_position bigserial PRIMARY KEY,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        type text NOT NULL,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        -- the writing transaction: global readers stop below the oldest one still running
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (stream_id, stream_version)
      )`,
      `CREATE INDEX events_commit_order ON events (tx_id, global_position)`,
    ],
  },
  {
    version: 2,
    name: 'projections',
    statements: [
      `CREATE TABLE services (
        id text PRIMARY KEY,
        name text NOT NULL,
        tenant text NOT NULL,
        status text NOT NULL,
        spec jsonb NOT NULL,
        replicas integer NOT NULL,
        scale jsonb,
        burst jsonb,
        latest_release integer,
        active_release integer,
        rollout jsonb,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        stream_version integer NOT NULL
      )`,
      `CREATE INDEX services_tenant ON services (tenant, name)`,
      `CREATE TABLE releases (
        id text PRIMARY KEY,
        service_id text NOT NULL,
        version integer NOT NULL,
        digest text NOT NULL,
        spec jsonb NOT NULL,
        env jsonb NOT NULL,
        secret_names jsonb NOT NULL,
        created_at timestamptz NOT NULL,
        rollout_started_at timestamptz,
        rolled_out_at timestamptz,
        reverted_at timestamptz,
        revert_reason text,
        stream_version integer NOT NULL,
        UNIQUE (service_id, version)
      )`,
      `CREATE TABLE hosts (
        id text PRIMARY KEY,
        name text NOT NULL,
        address text NOT NULL,
        region text NOT NULL,
        memory bigint NOT NULL,
        cpu integer NOT NULL,
        labels jsonb NOT NULL,
        status text NOT NULL,
        cordoned boolean NOT NULL,
        drain jsonb,
        last_seen timestamptz,
        enrolled_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        stream_version integer NOT NULL
      )`,
      `CREATE TABLE instances (
        id text PRIMARY KEY,
        service_id text NOT NULL,
        host_id text NOT NULL,
        release integer NOT NULL,
        port integer,
        replica integer NOT NULL,
        placed_at timestamptz NOT NULL,
        stop_requested_at timestamptz,
        stop_reason text,
        stream_version integer NOT NULL
      )`,
      `CREATE INDEX instances_service ON instances (service_id)`,
      `CREATE INDEX instances_host ON instances (host_id)`,
      `CREATE TABLE volumes (
        id text PRIMARY KEY,
        name text NOT NULL,
        tenant text NOT NULL,
        service_id text NOT NULL,
        host_id text NOT NULL,
        size bigint NOT NULL,
        status text NOT NULL,
        last_backup text,
        last_backup_at timestamptz,
        created_at timestamptz NOT NULL,
        updated_at timestamptz NOT NULL,
        stream_version integer NOT NULL
      )`,
      `CREATE INDEX volumes_host ON volumes (host_id) WHERE status = 'active'`,
    ],
  },
  {
    version: 3,
    name: 'api tokens, observed state, secret values',
    statements: [
      // Bearer tokens, stored as sha256 of the token: a leaked table authenticates no one.
      `CREATE TABLE tokens (
        id text PRIMARY KEY,
        hash text NOT NULL UNIQUE,
        scope text NOT NULL,
        name text NOT NULL,
        host_id text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        revoked_at timestamptz
      )`,
      `CREATE INDEX tokens_host ON tokens (host_id) WHERE host_id IS NOT NULL`,
      // Observed state (DESIGN §3): what agents last reported, overwritten by each heartbeat, never an event.
      `CREATE TABLE observed_hosts (
        host_id text PRIMARY KEY,
        heartbeat_at timestamptz NOT NULL,
        agent jsonb NOT NULL,
        usage jsonb NOT NULL
      )`,
      `CREATE TABLE observed_instances (
        id text PRIMARY KEY,
        host_id text NOT NULL,
        state text NOT NULL,
        port integer,
        pid integer,
        restarts integer NOT NULL,
        last_exit jsonb,
        message text,
        rss_bytes bigint,
        cpu_millicores integer,
        since timestamptz NOT NULL,
        reported_at timestamptz NOT NULL
      )`,
      `CREATE INDEX observed_instances_host ON observed_instances (host_id)`,
      // Secret values sealed with AES-256-GCM; SecretSet events carry only the name and version.
      `CREATE TABLE secret_values (
        tenant text NOT NULL,
        name text NOT NULL,
        version integer NOT NULL,
        sealed text NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (tenant, name)
      )`,
    ],
  },
  {
    version: 4,
    name: 'edge load reports, external metrics, activations',
    // Observed state the autoscaler and the agents' drain questions read, written by whichever
    // control plane an edge or a pusher reached (src/reconcile/load-reports.ts); times are the
    // database's now(), so replicas whose clocks differ agree on what is fresh.
    statements: [
      `CREATE TABLE observed_edge_loads (
        edge text PRIMARY KEY,
        received_at timestamptz NOT NULL,
        -- [{ service, concurrency, rps, queued }]
        services jsonb NOT NULL,
        -- { "<instance id>": { leaving, drained } }: every instance the edge still knows
        instances jsonb NOT NULL
      )`,
      `CREATE TABLE observed_metrics (
        service text NOT NULL,
        metric text NOT NULL,
        value float8 NOT NULL,
        received_at timestamptz NOT NULL,
        PRIMARY KEY (service, metric)
      )`,
      // Taken (deleted) by the leader's next autoscaler tick.
      `CREATE TABLE pending_activations (
        id bigserial PRIMARY KEY,
        service text NOT NULL,
        edge text NOT NULL,
        queued bigint NOT NULL,
        received_at timestamptz NOT NULL
      )`,
    ],
  },
  {
    version: 5,
    name: 'observed instances: adopted',
    // Replicas read each other's heartbeats back from observed_instances (src/api/observed-fleet.ts):
    // the row holds all of an instance's report, as the replica that took it holds it in memory.
    statements: [`ALTER TABLE observed_instances ADD COLUMN adopted boolean NOT NULL DEFAULT false`],
  },
  {
    version: 6,
    name: 'observed hosts: writing transaction',
    // Replicas find the heartbeats written since their previous read by the writing transaction,
    // as readers of the event log do (src/api/observed-fleet.ts). A trigger stamps it on every
    // insert and update, so a replica still running the code before this migration (a rolling
    // upgrade) writes rows the upgraded replicas see. Rows already there get this migration's
    // transaction: the next read takes them.
    statements: [
      `ALTER TABLE observed_hosts ADD COLUMN tx_id xid8 NOT NULL DEFAULT pg_current_xact_id()`,
      `CREATE FUNCTION observed_hosts_stamp_tx() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.tx_id := pg_current_xact_id(); RETURN NEW; END $$`,
      `CREATE TRIGGER observed_hosts_tx BEFORE INSERT OR UPDATE ON observed_hosts FOR EACH ROW EXECUTE FUNCTION observed_hosts_stamp_tx()`,
    ],
  },
  {
    version: 7,
    name: 'log pollers',
    // Which replica each host's agent long-polls for log requests, so a `berth logs` reader on
    // another replica is forwarded there (src/api/log-forwarding.ts). polled_at is the database's
    // now(), so replicas whose clocks differ agree on what is fresh.
    statements: [
      `CREATE TABLE log_pollers (
        host_id text PRIMARY KEY,
        replica_url text NOT NULL,
        polled_at timestamptz NOT NULL
      )`,
    ],
  },
  {
    version: 8,
    name: 'log pollers: replica identity',
    // Two replicas that advertise one URL (both 127.0.0.1:7070 on their own machines, say) could
    // not tell each other's notes from their own: each replica now notes a random id of its
    // process too, so a reader's replica can tell the user to give each replica its own
    // --advertise. Rows of a replica still running the code before this get '' (a rolling upgrade).
    statements: [`ALTER TABLE log_pollers ADD COLUMN replica_id text NOT NULL DEFAULT ''`],
  },
];

// Any constant works as long as every berth process uses the same one.
const MIGRATION_LOCK = 0x62657274; // "bert"

/** Applies the migrations this database lacks; control planes starting together take turns. */
export async function migrate(driver: SqlDriver, all: readonly Migration[] = migrations): Promise<number[]> {
  return driver.transaction(async (tx) => {
    // Transaction-scoped so a crashed starter cannot leave it held; xact lock keys are per database,
    // so two schemas of one database migrate one after the other, which is harmless.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const migration of [...all].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      for (const statement of migration.statements) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      done.push(migration.version);
    }
    return done;
  });
}
