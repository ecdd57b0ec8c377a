// Log reads across control-plane replicas. An agent long-polls one replica for log requests, so a
// reader on another replica is forwarded there: each replica notes in log_pollers which hosts poll
// it, and a reader's replica whose relay has no poll from a host asks the one that noted it.
import { randomUUID } from 'node:crypto';
import { UnavailableError } from '../core/errors.js';
// The client's node:http transport and error reading: a replica asks another as a client would.
import { errorOfResponse } from '../client/api-error.js';
import { ndjsonBatches, nodeHttpTransport, type TransportResponse } from '../client/transport.js';
import type { Logger } from 'pino';
import type { SqlDriver } from '../store/sql-driver.js';
import type { LogRelay } from './log-relay.js';
import type { LogEntry, LogRequest } from './protocol/log-protocol.js';

/**
 * Marks a forwarded read: the replica that takes it reads from its own relay, never forwards again.
 * Its value is the id of the replica the note named ('1' from a replica before migration 8), so
 * a read that reached another one (two replicas advertising one URL, a balancer in front) says
 * so at once rather than waiting for an agent that polls elsewhere.
 */
export const FORWARDED_HEADER = 'x-berth-forwarded';
/** The header's value from a replica that cannot name the one it forwards to. */
const UNNAMED = '1';

const sameUrlFix = 'start each replica with --advertise set to a URL the others reach it at, and that reaches no other replica';

/** s between rewrites of a note that still names this replica: a busy poll loop writes no more often */
const NOTE_EVERY_S = 5;
/**
 * A note older than this is no one's: the agent polls again within its wait (25 s) of its last
 * poll, which a replica notes at least every NOTE_EVERY_S.
 */
const FRESH_S = 60;
/**
 * ms since a host's agent last took its log requests here within which it still counts as polling
 * here: it polls again as soon as a poll returns (25 s wait), so only an agent gone is this late.
 */
const LIVE_POLL_MS = 10_000;
/** ms the replica that holds the poll has to start its answer (the head, before any line) */
const ANSWER_MS = 10_000;

// Every poll asks; the row is written only when it names another replica (the agent came here
// from there) or is NOTE_EVERY_S old.
const NOTE = `INSERT INTO log_pollers (host_id, replica_url, replica_id, polled_at) VALUES ($1, $2, $3, now())
  ON CONFLICT (host_id) DO UPDATE SET replica_url = EXCLUDED.replica_url, replica_id = EXCLUDED.replica_id, polled_at = EXCLUDED.polled_at
  WHERE log_pollers.replica_id <> EXCLUDED.replica_id OR log_pollers.replica_url <> EXCLUDED.replica_url
    OR log_pollers.polled_at < now() - interval '${NOTE_EVERY_S} seconds'`;
const POLLER = `SELECT replica_url, replica_id, extract(epoch FROM now() - polled_at)::float8 * 1000 AS age_ms
  FROM log_pollers WHERE host_id = $1 AND polled_at > now() - interval '${FRESH_S} seconds'`;

/**
 * Which replica each host's agent polls for log requests, as the replicas note it in log_pollers.
 * On PGlite no other replica shares the database: nothing is noted or looked up.
 */
export class LogPollers {
  /** this replica's process, in its notes: tells it from another replica that advertises the same URL */
  readonly id = randomUUID();
  /** performance.now() when this process began: a note older than that is not a twin's (it may be this replica's before a restart) */
  readonly #startedAt = performance.now();

  /** `self`: the URL other replicas reach this one at; undefined while it does not listen yet */
  constructor(
    private readonly db: SqlDriver,
    private readonly self: () => string | undefined,
  ) {}

  /** The URL other replicas reach this one at; undefined while it does not listen yet. */
  get url(): string | undefined {
    return this.self();
  }

  /** The fresh note of `hostId`'s poller, and whether it was written before this process began. */
  async #note(hostId: string): Promise<{ url: string; id: string; beforeThisProcess: boolean } | undefined> {
    const [row] = await this.db.query<{ replica_url: string; replica_id: string; age_ms: number }>(POLLER, [hostId]);
    return row === undefined ? undefined : { url: row.replica_url, id: row.replica_id, beforeThisProcess: row.age_ms >= performance.now() - this.#startedAt };
  }

  /**
   * Whether a read forwarded for the replica `named` (FORWARDED_HEADER) is this one's to answer:
   * it names this process, or no one (a replica before migration 8), or this replica before a
   * restart (the note naming it, with this URL, was written before this process began).
   */
  async forwardedHere(hostId: string, named: string): Promise<boolean> {
    if (named === UNNAMED || named === this.id || this.db.kind === 'pglite') return true;
    const note = await this.#note(hostId);
    return note !== undefined && note.id === named && note.url === this.self() && note.beforeThisProcess;
  }

  /** Notes that `hostId` polls this replica (see NOTE). */
  async polledHere(hostId: string): Promise<void> {
    const url = this.self();
    if (this.db.kind === 'pglite' || url === undefined) return;
    await this.db.query(NOTE, [hostId, url, this.id]);
  }

  /**
   * The other replica `hostId` polled lately: its URL and id ('' when it runs code before migration
   * 8); undefined when none did (or this one did). Throws UnavailableError when that replica
   * advertises this one's own URL: no read can reach it.
   */
  async elsewhere(hostId: string): Promise<{ url: string; id: string } | undefined> {
    if (this.db.kind === 'pglite') return undefined;
    const note = await this.#note(hostId);
    if (note === undefined) return undefined;
    if (note.url !== this.self()) {
      // our id under another URL: a replica before migration 8 rewrote the URL and left the id (its
      // update does not know the column); it cannot check a named forward, so it gets an unnamed one
      return { url: note.url, id: note.id === this.id ? '' : note.id };
    }
    // ours; '' is a note of a replica before migration 8, which cannot say whose it is (ours, as
    // before); and one written before this process began may be this replica's before a restart
    if (note.id === this.id || note.id === '' || note.beforeThisProcess) return undefined;
    throw new UnavailableError(
      `the agent of host ${hostId} polls another control-plane replica that advertises the same URL as this one (${note.url}), so its logs cannot be read from here; ${sameUrlFix}`,
      { host: hostId, replica: note.url },
    );
  }
}

export interface ForwardedRead {
  /** the URL of the replica whose relay the host's agent polls */
  readonly replica: string;
  /** that replica's id, as its note says ('' from a replica before migration 8) */
  readonly replicaId: string;
  readonly service: string;
  readonly hostId: string;
  /** the reader's own Authorization header: tokens live in the shared database */
  readonly authorization: string | undefined;
  /** as for LogRelay.read, except `since` here is a duration (ms), which the other replica applies itself */
  readonly request: Omit<LogRequest, 'id' | 'since'> & { readonly since?: number };
}

/**
 * The instance's lines from the replica its host's agent polls, batch by batch, as LogRelay.read
 * gives them; ends when that replica's answer ends or `signal` aborts. Throws UnavailableError with
 * the instance's error (the other replica's, or that it cannot be reached).
 */
export async function* forwardRead(read: ForwardedRead, signal: AbortSignal): AsyncGenerator<string[], void, undefined> {
  const { replica, hostId, request } = read;
  const url = new URL(`${replica}/v1/services/${encodeURIComponent(read.service)}/logs`);
  url.searchParams.set('instance', request.instance);
  url.searchParams.set('tail', String(request.tail));
  url.searchParams.set('follow', String(request.follow));
  if (request.since !== undefined) url.searchParams.set('since', `${request.since}ms`);
  const headers: Record<string, string> = { accept: 'application/x-ndjson', [FORWARDED_HEADER]: read.replicaId === '' ? UNNAMED : read.replicaId };
  if (read.authorization !== undefined) headers.authorization = read.authorization;
  const details = { host: hostId, instance: request.instance, replica };
  const unreachable = (cause: string): UnavailableError =>
    new UnavailableError(
      `the agent of host ${hostId} polls the control plane at ${replica}, which cannot be reached for logs (${cause}); check that it runs and that its --advertise URL reaches it from here`,
      details,
    );

  // The head comes within ANSWER_MS or not at all; the lines of a follow may take any time after it.
  const head = new AbortController();
  const headTimer = setTimeout(() => head.abort(), ANSWER_MS);
  let response: TransportResponse;
  try {
    response = await nodeHttpTransport({ method: 'GET', url, headers, signal: AbortSignal.any([signal, head.signal]) });
  } catch (error) {
    if (signal.aborted) return;
    const failure = error as { code?: string };
    throw unreachable(head.signal.aborted ? `no answer within ${ANSWER_MS / 1000} s` : (failure.code ?? (error as Error).message));
  } finally {
    clearTimeout(headTimer);
  }
  if (response.status !== 200) {
    const refused = await errorOfResponse(response, `GET ${url.pathname}`);
    throw new UnavailableError(`the control plane at ${replica}, which the agent of host ${hostId} polls, refused the logs: ${refused.message}`, details);
  }

  try {
    for await (const entries of ndjsonBatches<LogEntry>(response.chunks())) {
      const lines: string[] = [];
      for (const entry of entries) {
        if ('error' in entry) {
          if (lines.length > 0) yield lines;
          throw new UnavailableError(entry.error, { host: hostId, instance: request.instance });
        }
        lines.push(entry.line);
      }
      if (lines.length > 0) yield lines;
    }
  } catch (error) {
    if (signal.aborted) return;
    if (error instanceof UnavailableError) throw error;
    throw unreachable(`the answer broke off: ${(error as Error).message}`);
  }
}

/** Who reads: what forwarding needs to know of the request that asks. */
export interface LogReader {
  /**
   * forwarded here from another replica, with the id of the replica it was meant for (FORWARDED_HEADER):
   * read here, whatever the notes say, so a read never loops
   */
  readonly forwarded: string | undefined;
  /** the reader's Authorization header, passed on when forwarding: tokens live in the shared database */
  readonly authorization: string | undefined;
}

/**
 * One instance's lines, for `berth logs` and `berth explain`: read through this replica's relay
 * when its host's agent polls here (or no other replica noted it), else through the replica that
 * did.
 */
export class InstanceLogs {
  constructor(
    private readonly relay: LogRelay,
    readonly pollers: LogPollers,
    private readonly log: Logger,
    private readonly now: () => Date,
  ) {}

  /** As LogRelay.read (`since` an absolute time in ms), from wherever the host's agent polls. */
  async read(service: string, hostId: string, reading: Omit<LogRequest, 'id'>, reader: LogReader, signal: AbortSignal): Promise<AsyncIterable<string[]>> {
    if (reader.forwarded !== undefined) {
      // meant for another replica that the agent polls, and it does not poll this one
      // (the database away for a moment: read here, as before names were checked)
      const here = this.relay.polled(hostId, LIVE_POLL_MS) || (await this.pollers.forwardedHere(hostId, reader.forwarded).catch(() => true));
      if (!here) {
        throw new UnavailableError(
          `a log read for host ${hostId}, forwarded to the control-plane replica its agent polls, reached another one (it advertises ${this.pollers.url ?? 'no URL yet'}): the URL that replica advertises leads here too; ${sameUrlFix}`,
          { host: hostId, instance: reading.instance },
        );
      }
      return this.relay.read(hostId, reading, signal);
    }
    let replica: { url: string; id: string } | undefined;
    try {
      replica = this.relay.polled(hostId, LIVE_POLL_MS) ? undefined : await this.pollers.elsewhere(hostId);
    } catch (error) {
      if (error instanceof UnavailableError) throw error;
      // the database away for a moment: this replica's relay, as with one replica
      this.log.warn({ host: hostId, err: (error as Error).message }, 'log read: could not look up which replica the host polls; reading here');
    }
    if (replica === undefined) return this.relay.read(hostId, reading, signal);
    const { since, ...rest } = reading;
    // the other replica applies `since` to its own clock: send the time from the cut-off to now
    // (an instance a follow takes up later reads from the same cut-off as the others)
    const request = since === undefined ? rest : { ...rest, since: Math.max(1, this.now().getTime() - since) };
    return forwardRead({ replica: replica.url, replicaId: replica.id, service, hostId, authorization: reader.authorization, request }, signal);
  }

  /** The last `lines` lines of an instance (berth explain's evidence); undefined when none came within `timeoutMs`. */
  async tail(service: string, hostId: string, instance: string, lines: number, reader: LogReader, timeoutMs = 3_000): Promise<string[] | undefined> {
    const signal = AbortSignal.timeout(timeoutMs);
    const out: string[] = [];
    try {
      for await (const batch of await this.read(service, hostId, { instance, tail: lines, follow: false }, reader, signal)) out.push(...batch);
    } catch {
      return undefined;
    }
    return signal.aborted && out.length === 0 ? undefined : out;
  }
}
