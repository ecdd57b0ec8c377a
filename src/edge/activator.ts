// Scale from zero: a request for a service with no ready instance (and min 0) waits in the
// service's activation queue (service-instances.ts) while the activator asks the control plane
// for an instance; the request goes on as soon as a route table lists one ready. Asking is
// throttled per service: a burst of held requests is one wake-up, not thousands.
import type { ControlPlaneLink } from './control-plane-link.js';

export class Activator {
  private readonly lastAsked = new Map<string, number>();
  activationsRequested = 0;

  constructor(
    private readonly link: ControlPlaneLink | undefined,
    private readonly edge: string,
    private readonly log: (line: string) => void,
    /** asking again while requests still wait covers a lost request or a failed start */
    private readonly repeatMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  readonly activate = (service: string, queued: number): void => {
    const now = this.now();
    const last = this.lastAsked.get(service);
    if (last !== undefined && now - last < this.repeatMs) return;
    this.lastAsked.set(service, now);
    this.activationsRequested++;
    if (this.link === undefined) {
      this.log(`service ${service} is at zero and nothing can start it (no control plane link)`);
      return;
    }
    this.link.activate(service, queued, this.edge).catch((error: unknown) => {
      this.log(`could not ask the control plane to start service ${service}: ${(error as Error).message}`);
    });
  };
}
