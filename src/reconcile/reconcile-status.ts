// The loops' last word on each service and host, held in memory on the leader for `berth status`
// and `berth explain`: what a pass decided, and the error that keeps a key from converging.
import type { HostStatus } from './host-status.js';
import type { ServiceStatus } from './service-status.js';

export interface KeyError {
  readonly key: string;
  readonly message: string;
  /** Consecutive failures; a terminal error is not retried until the key changes. */
  readonly attempts: number;
  readonly terminal: boolean;
  readonly at: string;
}

export class ReconcileStatus {
  readonly #services = new Map<string, ServiceStatus>();
  readonly #hosts = new Map<string, HostStatus>();
  readonly #errors = new Map<string, KeyError>();

  setService(status: ServiceStatus): void {
    this.#services.set(status.service, status);
  }

  service(id: string): ServiceStatus | undefined {
    return this.#services.get(id);
  }

  services(): ServiceStatus[] {
    return [...this.#services.values()];
  }

  setHost(status: HostStatus): void {
    this.#hosts.set(status.host, status);
  }

  host(id: string): HostStatus | undefined {
    return this.#hosts.get(id);
  }

  hosts(): HostStatus[] {
    return [...this.#hosts.values()];
  }

  setError(error: KeyError): void {
    this.#errors.set(error.key, error);
  }

  clearError(key: string): void {
    this.#errors.delete(key);
  }

  /** Keys are `service/<id>` and `host/<id>`. */
  error(key: string): KeyError | undefined {
    return this.#errors.get(key);
  }

  errors(): KeyError[] {
    return [...this.#errors.values()];
  }

  /** A follower knows nothing current: it forgets what it decided while it led. */
  clear(): void {
    this.#services.clear();
    this.#hosts.clear();
    this.#errors.clear();
  }
}
