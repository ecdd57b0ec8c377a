// Round robin over the eligible instances, for services whose requests cost about the same.
import { preferredCandidates, type Balancer, type CandidateView } from './balancer.js';

export class RoundRobin implements Balancer {
  private readonly scratch: unknown[] = [];
  private cursor = 0;

  pick<T>(view: CandidateView<T>): T | undefined {
    const candidates = preferredCandidates(view, this.scratch as T[]);
    if (candidates.length === 0) return undefined;
    this.cursor = (this.cursor + 1) % 1_000_000_007;
    return candidates[this.cursor % candidates.length];
  }
}
