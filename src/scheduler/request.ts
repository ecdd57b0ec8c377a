// What the scheduler is asked to place: one replica of a service.
import type { Resources } from '../core/resources.js';

export interface PlacementConstraints {
  readonly region?: string;
  readonly cluster?: string;
  /** Every label must match the host's exactly (`{ disk: 'ssd' }`). */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface PlacementRequest {
  readonly service: string;
  readonly replica: number;
  readonly resources: Resources;
  /** Fixed host ports (an `infra` service); at most one instance per host can hold each. */
  readonly ports?: readonly number[];
  /**
   * The volume this instance mounts. `host` pins it; without `host` the scheduler looks the
   * volume up in the fleet, and a volume it does not know is created where the instance lands.
   */
  readonly volume?: { readonly name: string; readonly host?: string };
  readonly placement?: PlacementConstraints;
}

/** `web/3`: how plans and explain output name an instance that has no id yet. */
export const instanceName = (request: { service: string; replica: number }): string =>
  `${request.service}/${request.replica}`;
