// The feasibility contract (Nomad's FeasibilityChecker): one yes/no question about one host.
// Checkers are object literals with the same keys in the same order, so the pipeline's call
// site sees one shape and stays fast.
import type { CompiledRequest } from '../compiled-request.js';
import type { Reason } from '../reason.js';
import type { PlacementState } from '../state.js';

export interface Checker {
  readonly name: Reason['checker'] | 'replica-spread';
  /** False when the checker cannot reject this request (no ports asked, no labels): the pipeline skips it. */
  applies(ask: CompiledRequest): boolean;
  feasible(host: number, ask: CompiledRequest, state: PlacementState): boolean;
  /**
   * Why the hosts this checker filtered could not take an unplaceable request, or undefined
   * for a checker that never blocks a request on its own.
   */
  reason(ask: CompiledRequest, filtered: readonly number[], state: PlacementState): Reason | undefined;
}

/** "1 host", "12 hosts"; with a verb, "1 host has", "12 hosts have". */
export const hosts = (n: number, verb?: readonly [singular: string, plural: string]): string =>
  `${n.toLocaleString('en-US')} ${n === 1 ? 'host' : 'hosts'}${verb === undefined ? '' : ` ${n === 1 ? verb[0] : verb[1]}`}`;
