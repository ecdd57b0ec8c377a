// Least outstanding requests over two random choices (Mitzenmacher's "power of two choices"):
// nearly as even as scanning for the least loaded, without every edge herding onto the same
// instance when their views of load are a moment stale.
import type { Random } from '../../core/random.js';
import { preferredCandidates, type Balancer, type CandidateView } from './balancer.js';

export class LeastOutstanding implements Balancer {
  // reused across picks: the hot path allocates nothing
  private readonly scratch: unknown[] = [];

  constructor(private readonly random: Random) {}

  pick<T>(view: CandidateView<T>): T | undefined {
    const candidates = preferredCandidates(view, this.scratch as T[]);
    const n = candidates.length;
    if (n <= 1) return candidates[0];
    const a = this.random.int(n);
    let b = this.random.int(n - 1);
    if (b >= a) b++;
    const first = candidates[a]!;
    const second = candidates[b]!;
    return view.load(second) < view.load(first) ? second : first;
  }
}
