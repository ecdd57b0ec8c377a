// Exponential backoff between restarts of a crashing instance: initialDelay doubling up to
// maxDelay, back to initialDelay once a run stayed up for resetAfter (a crash loop slows down,
// a rare crash of a long-lived instance restarts at once).
import type { RestartPolicy } from './instance-spec.js';

export class RestartBackoff {
  #crashes = 0;

  constructor(private policy: RestartPolicy) {}

  /** The delay before restarting a run that stayed up `uptime` ms. */
  next(uptime: number): number {
    if (uptime >= this.policy.resetAfter) this.#crashes = 0;
    const delay = Math.min(this.policy.maxDelay, this.policy.initialDelay * 2 ** this.#crashes);
    this.#crashes++;
    return delay;
  }

  reset(policy: RestartPolicy = this.policy): void {
    this.policy = policy;
    this.#crashes = 0;
  }
}
