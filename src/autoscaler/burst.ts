// A burst (`berth scale burst web 4 --for 30m`) raises the floor of the count until it expires.

export interface Burst {
  readonly replicas: number;
  /** ms since the epoch; the burst holds while now < until */
  readonly until: number;
}

/** The highest floor of the bursts still running at `now`, or 0 when none is. */
export function burstFloor(bursts: readonly Burst[], now: number): number {
  let floor = 0;
  for (const burst of bursts) if (now < burst.until && burst.replicas > floor) floor = burst.replicas;
  return floor;
}
