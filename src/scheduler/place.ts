// One request, one answer: the host, or the reasons no host can take it.
import { RequestCompiler } from './compiled-request.js';
import { unplaceableReasons } from './census.js';
import { DEFAULT_CANDIDATES, prepare, selectHost } from './pipeline.js';
import type { Fleet } from './fleet.js';
import type { PlaceOptions } from './place-all.js';
import type { Reason } from './reason.js';
import type { PlacementRequest } from './request.js';
import { PlacementState } from './state.js';

export type PlaceResult = { ok: true; host: string } | { ok: false; reasons: Reason[] };

export function place(fleet: Fleet, request: PlacementRequest, options: PlaceOptions = {}): PlaceResult {
  const state = new PlacementState(fleet, options);
  const ask = prepare(new RequestCompiler(state).compile(request));
  const host = selectHost(ask, state, options.candidates ?? DEFAULT_CANDIDATES);
  if (host < 0) return { ok: false, reasons: unplaceableReasons(ask, state) };
  return { ok: true, host: state.hostOf(host).id };
}
