// Replicas of one service spread over hosts: a host may take another replica only while no
// other feasible host holds fewer, so losing one host takes out the fewest replicas (a
// topology spread with max skew 1 over hosts). "Feasible" means passing every other checker,
// which is why this one runs last. The pipeline raises `ask.spreadLevel` when every host at
// the current level is full; an instance pinned by its volume is exempt.
import { ANY } from '../compiled-request.js';
import type { Checker } from './checker.js';

export const replicaSpread = {
  name: 'replica-spread',
  applies: (ask) => ask.volumeHost === ANY,
  feasible: (host, ask, state) => state.replicasOn(ask.service, host) <= ask.spreadLevel,
  // another feasible host always exists when this checker filters one, so it never blocks alone
  reason: (_ask, _filtered, _state) => undefined,
} satisfies Checker;
