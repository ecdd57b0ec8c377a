// Route tables from the control plane by long poll: `GET /v1/edge/routes?after=<version>` is
// answered with a table as soon as the control plane's differs from <version> (204 after ~30 s
// without a change). The edge keeps serving its last table while the control plane is away,
// retries with capped exponential backoff, and keeps the table on disk for a restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { ReconnectBackoff } from '../core/reconnect-backoff.js';
import { seededRandom, type Random } from '../core/random.js';
import type { HttpControlPlane } from './control-plane-link.js';
import { loadRouteTable, saveRouteTable } from './route-table-file.js';
import { parseRouteTable, type RouteTable } from './route-table.js';
import type { RouteSource } from './route-source.js';

export interface PollOptions {
  /** where the last table is kept; none: memory only */
  readonly dataDir?: string;
  /** the longest the control plane holds a poll; the client waits this plus a margin */
  readonly holdMs?: number;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly log?: (line: string) => void;
  readonly random?: Random;
}

export const DEFAULT_HOLD_MS = 30_000;

export class PollRouteSource implements RouteSource {
  private stopped = false;
  private version = -1;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  /** counts failures in a row, for the wait and for logging an outage once */
  private readonly backoff: ReconnectBackoff;

  constructor(
    private readonly controlPlane: HttpControlPlane,
    private readonly options: PollOptions = {},
  ) {
    const random = options.random ?? seededRandom(Date.now());
    this.backoff = new ReconnectBackoff(options.minBackoffMs ?? 250, options.maxBackoffMs ?? 10_000, () => random.next());
  }

  start(onTable: (table: RouteTable) => void): void {
    this.running = this.run(onTable);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.running;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async run(onTable: (table: RouteTable) => void): Promise<void> {
    const dir = this.options.dataDir;
    if (dir !== undefined) {
      const loaded = await loadRouteTable(dir);
      if (loaded.ok) {
        this.version = loaded.table.version;
        this.log(`routing with the saved route table version ${loaded.table.version} until the control plane answers`);
        onTable(loaded.table);
      } else if (!loaded.missing) this.log(loaded.message);
    }
    while (!this.stopped) {
      try {
        const table = await this.poll();
        if (this.backoff.failures > 0) this.log(`control plane reachable again after ${this.backoff.failures} failed polls`);
        this.backoff.reset();
        if (table === undefined) continue;
        this.version = table.version;
        onTable(table);
        if (dir !== undefined) await saveRouteTable(dir, table).catch((error: unknown) => this.log(`could not save the route table in ${dir}: ${(error as Error).message}`));
      } catch (error) {
        if (this.stopped) break;
        const wait = this.backoff.next();
        if (this.backoff.failures === 1 || this.backoff.failures % 20 === 0) {
          this.log(`route table poll failed (${(error as Error).message}); keeping table version ${this.version} and retrying`);
        }
        // the abort ends the wait at once (and leaves no listener behind on the signal)
        await sleep(wait, undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
  }

  private async poll(): Promise<RouteTable | undefined> {
    const hold = this.options.holdMs ?? DEFAULT_HOLD_MS;
    const response = await this.controlPlane.get(`/v1/edge/routes?after=${this.version}`, AbortSignal.any([this.abort.signal, AbortSignal.timeout(hold + 15_000)]));
    if (response.status === 204) {
      await response.text();
      return undefined;
    }
    const text = await response.text();
    if (response.status === 401 || response.status === 403) throw new Error(`${response.status}: the edge token was refused; pass --token with an edge-scoped token`);
    if (response.status < 200 || response.status >= 300) throw new Error(`${response.status} ${text.slice(0, 200)}`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch {
      throw new Error('the route table is not JSON');
    }
    const parsed = parseRouteTable(data);
    if (!parsed.ok) throw new Error(`invalid route table: ${parsed.message}`);
    // same version: a control plane that answered without waiting; nothing new
    return parsed.table.version === this.version ? undefined : parsed.table;
  }
}
