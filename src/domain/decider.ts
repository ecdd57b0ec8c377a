// The shape every aggregate's logic takes (emmett's decider). Rule violations are returned as
// values carrying a core error (status + code for the API), never thrown: a thrown error from
// a decider is a bug. The shell folds a stream with `evolve`, asks `decide`, and appends.
import type { BerthError } from '../core/errors.js';
import type { Result } from '../core/result.js';

export type Decision<E> = Result<readonly E[], BerthError>;

export interface Decider<Command, State, E> {
  initialState(): State;
  /** Total over every event of the union: events of other aggregates leave the state as is. */
  evolve(state: State, event: E): State;
  decide(command: Command, state: State): Decision<E>;
}

export const fold = <State, E>(
  decider: Pick<Decider<unknown, State, E>, 'initialState' | 'evolve'>,
  events: Iterable<NoInfer<E>>,
  from: State = decider.initialState(),
): State => {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
};
