// Time → byte-offset marks for an instance log, so `berth logs --since` can skip what was written
// before a time although the app's lines carry none. At each size check (every second while the
// agent runs) the size is marked when it changed: "at `time`, generation `generation` of the log
// held `offset` bytes". A rotation starts a new generation at offset 0; generation g lives in the
// live file when it is the newest, in `.1` after one more rotation, and so on.
//
// The marks live in a small append-only text file beside the log (`time generation offset` a
// line), so an agent restart keeps them; what is written while no agent runs is only known to
// lie between the last mark before and the first after. Bounded: marks of generations no longer
// kept are dropped, and marks older than a day are thinned to one an hour per generation, when
// the file is rewritten (at a rotation, or after another hour of marks). Thinning only moves a
// start earlier, so a `since` older than a day may include up to an hour more.
import { appendFile, readFile, rename, unlink, writeFile } from 'node:fs/promises';

export interface LogMark {
  readonly time: number;
  readonly generation: number;
  readonly offset: number;
}

/** Where lines written at or after a time begin: `back` rotations behind the live file, at `offset`. */
export interface LogFloor {
  readonly back: number;
  readonly offset: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** marks appended between rewrites: about an hour of a log written every second */
const COMPACT_EVERY = 3_600;

interface MarksState {
  generation: number;
  /** the offset last marked; -1 before any mark */
  size: number;
  /** marks appended since the file was last rewritten */
  appended: number;
}

// The driver makes a fresh InstanceLog per call, so what is known of each marks file is kept
// here, by path, read from the file once per agent. Callers take turns (InstanceLog's `exclusive`).
const states = new Map<string, MarksState>();

export class LogMarks {
  constructor(
    readonly path: string,
    /** rotated files kept beside the live one: older generations are gone */
    private readonly files: number,
  ) {}

  /** At a size check: marks `size` when it changed since the last mark. */
  async observe(size: number, now: number): Promise<void> {
    const state = await this.#state();
    if (size === state.size) return;
    if (size < state.size) {
      // shrunk without a rotation (truncated or replaced by hand): the old offsets mean nothing now
      state.size = size;
      await this.#rewrite([{ time: now, generation: state.generation, offset: size }], state);
      return;
    }
    state.size = size;
    await this.#append({ time: now, generation: state.generation, offset: size }, state);
  }

  /** After a rotation: the live file starts a new generation, empty at `now`. */
  async rotated(now: number): Promise<void> {
    const state = await this.#state();
    state.generation++;
    state.size = 0;
    await this.#append({ time: now, generation: state.generation, offset: 0 }, state);
    await this.#rewrite(compact(await this.read(), state.generation, this.files, now), state);
  }

  /**
   * Where the lines written at or after `since` begin, give or take the second between checks:
   * the last mark at or before it. Undefined when every kept line may be that recent: `since`
   * precedes the first mark (the log predates its marks, or nothing older is kept).
   */
  async floor(since: number): Promise<LogFloor | undefined> {
    const state = await this.#state();
    const marks = await this.read();
    let found: LogMark | undefined;
    for (const mark of marks) if (mark.time <= since) found = mark;
    if (found === undefined) return undefined;
    const back = state.generation - found.generation;
    // that generation was rotated away: every kept file began after `since`
    return back > this.files ? undefined : { back, offset: found.offset };
  }

  async read(): Promise<LogMark[]> {
    const text = await readFile(this.path, 'utf8').catch(() => '');
    return text.split('\n').flatMap((line) => {
      const [time, generation, offset] = line.split(' ').map(Number);
      return [time, generation, offset].every((n) => Number.isFinite(n)) && line !== ''
        ? [{ time: time!, generation: generation!, offset: offset! }]
        : [];
    });
  }

  async remove(): Promise<void> {
    states.delete(this.path);
    await unlink(this.path).catch(() => undefined);
  }

  async #state(): Promise<MarksState> {
    let state = states.get(this.path);
    if (state === undefined) {
      const marks = await this.read();
      const last = marks.at(-1);
      state = { generation: last?.generation ?? 0, size: last?.offset ?? -1, appended: marks.length };
      states.set(this.path, state);
    }
    return state;
  }

  async #append(mark: LogMark, state: MarksState): Promise<void> {
    await appendFile(this.path, line(mark), { mode: 0o600 });
    if (++state.appended >= COMPACT_EVERY) await this.#rewrite(compact(await this.read(), state.generation, this.files, mark.time), state);
  }

  async #rewrite(marks: readonly LogMark[], state: MarksState): Promise<void> {
    const temporary = `${this.path}.tmp`;
    await writeFile(temporary, marks.map(line).join(''), { mode: 0o600 });
    await rename(temporary, this.path);
    state.appended = 0;
  }
}

/** Drops the marks of generations no longer kept, and keeps one an hour per generation of those older than a day. */
export function compact(marks: readonly LogMark[], generation: number, files: number, now: number): LogMark[] {
  const seen = new Set<string>();
  return marks.filter((mark) => {
    if (mark.generation < generation - files) return false;
    if (mark.time >= now - DAY) return true;
    const bucket = `${mark.generation}:${Math.floor(mark.time / HOUR)}`;
    if (seen.has(bucket)) return false;
    seen.add(bucket);
    return true;
  });
}

function line(mark: LogMark): string {
  return `${mark.time} ${mark.generation} ${mark.offset}\n`;
}
