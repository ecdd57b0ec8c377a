// The ranking contract (Nomad's RankIterator scorers): a small pure formula giving one host a
// score in [0, 1] for one request; the pipeline averages the scores of every ranker.
import type { CompiledRequest } from '../compiled-request.js';
import type { PlacementState } from '../state.js';

export interface Ranker {
  readonly name: string;
  score(host: number, ask: CompiledRequest, state: PlacementState): number;
}
