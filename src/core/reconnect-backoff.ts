// Waits between attempts to reach the control plane (agents, edges): doubling from 250 ms to 10 s, with
// jitter so a fleet of agents coming back after an outage does not arrive in lockstep.
export class ReconnectBackoff {
  failures = 0;

  constructor(
    private readonly initial = 250,
    private readonly max = 10_000,
    private readonly random: () => number = Math.random,
  ) {}

  /** ms to wait before the next attempt; counts a failure. */
  next(): number {
    this.failures++;
    const ceiling = Math.min(this.max, this.initial * 2 ** (this.failures - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  reset(): void {
    this.failures = 0;
  }
}
