// The projections every append updates in its transaction, and `berth admin rebuild` replays.
import type { Projection } from './projection.js';
import { hostsProjection } from './projections/hosts.js';
import { instancesProjection } from './projections/instances.js';
import { releasesProjection } from './projections/releases.js';
import { servicesProjection } from './projections/services.js';
import { volumesProjection } from './projections/volumes.js';

export const inlineProjections: readonly Projection[] = [
  servicesProjection,
  releasesProjection,
  hostsProjection,
  instancesProjection,
  volumesProjection,
];
