// Spread across failure domains (the host label `zone`): 1 / (1 + replicas in the host's zone
// − replicas in the request's least-loaded zone). The least-loaded zone scores 1 and each
// replica above it halves, thirds… the score: steep enough to outweigh the fit ranker's
// differences between near-equal hosts, so replicas of a service even out across zones. A
// host without a zone label is neutral (0.5).
import type { CompiledRequest } from '../compiled-request.js';
import type { PlacementState } from '../state.js';
import type { Ranker } from './ranker.js';

// the least-loaded zone, memoised for one placement (the same request and fleet epoch):
// every candidate of a placement shares it
let memoAsk: CompiledRequest | undefined;
let memoEpoch = -1;
let memoMin = 0;

function fewestInAZone(ask: CompiledRequest, state: PlacementState): number {
  if (memoAsk === ask && memoEpoch === state.epoch) return memoMin;
  let min = Infinity;
  for (const zone of ask.zones) if (zone >= 0) min = Math.min(min, state.replicasInZone(ask.service, zone));
  memoAsk = ask;
  memoEpoch = state.epoch;
  memoMin = min === Infinity ? 0 : min;
  return memoMin;
}

export const zoneSpread = {
  name: 'zone-spread',
  score: (host, ask, state) => {
    const zone = state.zone[host]!;
    if (zone < 0) return 0.5;
    return 1 / (1 + state.replicasInZone(ask.service, zone) - fewestInAZone(ask, state));
  },
} satisfies Ranker;
