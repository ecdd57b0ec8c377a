// When the agent sends the stop signal to an instance that left its assignment set (DESIGN §6,
// issue 5 item 7): once the edges are done with it or its grace period is over, whichever comes
// first, and never before a short minimum. Pure: the time and the edges' word are parameters.

export interface LeavingInstance {
  /** when the agent saw it leave its assignment set (ms) */
  readonly leftAt: number;
  /**
   * The least time between leaving and the stop signal. The edges learn that the instance is
   * draining from their route table's long-poll, within a round trip as a rule, but one that is
   * reconnecting, or whose table is on its way, may not have it yet. And an edge whose report
   * does not list the instance (its table predates it) counts as done with it. The minimum covers
   * both: edges report every second, so by its end every live edge has reported from a table that
   * drains the instance, and none sends a new request to a stopped process.
   */
  readonly minimumMs: number;
  /** the service's `stop.grace`: the longest the edges' in-flight requests are waited for */
  readonly graceMs: number;
}

export type StopVerdict =
  /** too soon to ask the edges: wait until `until` */
  | { readonly action: 'wait'; readonly until: number }
  /** ask the edges whether they are done with it, until `until` (the grace end) */
  | { readonly action: 'ask'; readonly until: number }
  | { readonly action: 'stop'; readonly reason: 'drained' | 'grace' };

/** `drained`: the control plane's latest answer says every live edge is done with the instance. */
export function stopVerdict(instance: LeavingInstance, drained: boolean, now: number): StopVerdict {
  const earliest = instance.leftAt + instance.minimumMs;
  if (now < earliest) return { action: 'wait', until: earliest };
  if (drained) return { action: 'stop', reason: 'drained' };
  // A grace shorter than the minimum ends at the minimum: the floor is about routing, not work.
  const graceEnd = Math.max(earliest, instance.leftAt + instance.graceMs);
  if (now >= graceEnd) return { action: 'stop', reason: 'grace' };
  return { action: 'ask', until: graceEnd };
}
