// How well the request fits the host, by the host's cluster strategy.
//
// bin-pack is Nomad's "BestFit v3" (scheduler/rank.go, ScoreFitBinPack): with the fractions of
// memory and CPU left free after placing, score = clamp(20 − (10^freeCpu + 10^freeMem), 0, 18)
// / 18, so a host left nearly full scores ~1 and an empty one ~0 — steep near empty, which
// makes opening a fresh host the last resort. spread is its mirror (ScoreFitSpread):
// clamp((10^freeCpu + 10^freeMem) − 2, 0, 18) / 18.
import type { Ranker } from './ranker.js';

export const fit = {
  name: 'fit',
  score: (host, ask, state) => {
    const allocatable = state.allocatable[host]!;
    const capacity = state.cpuCapacity[host]!;
    const freeMem = allocatable > 0 ? (state.freeMemory[host]! - ask.memory) / allocatable : 0;
    const freeCpu = capacity > 0 ? (state.freeCpu[host]! - ask.cpu) / capacity : 0;
    const total = 10 ** freeCpu + 10 ** freeMem;
    const raw = state.spreads[host] === 1 ? total - 2 : 20 - total;
    return raw <= 0 ? 0 : raw >= 18 ? 1 : raw / 18;
  },
} satisfies Ranker;
