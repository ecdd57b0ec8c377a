// Region and cluster constraints: a request names where it may run, hosts elsewhere are out.
import { ANY, UNKNOWN } from '../compiled-request.js';
import { hosts, type Checker } from './checker.js';

export const placementScope = {
  name: 'placement',
  applies: (ask) => ask.region !== ANY || ask.cluster !== ANY,
  feasible: (host, ask, state) =>
    (ask.region === ANY || state.region[host] === ask.region) && (ask.cluster === ANY || state.cluster[host] === ask.cluster),
  reason: (ask, filtered, _state) => {
    const scope = [
      ask.regionName === undefined ? '' : `region ${ask.regionName}`,
      ask.clusterName === undefined ? '' : `cluster ${ask.clusterName}`,
    ]
      .filter(Boolean)
      .join(' and ');
    const message =
      ask.region === UNKNOWN
        ? `no host in region ${ask.regionName ?? ''}`
        : ask.cluster === UNKNOWN
          ? `no host in cluster ${ask.clusterName ?? ''}`
          : `${hosts(filtered.length, ['is', 'are'])} outside ${scope}`;
    return {
      checker: 'placement',
      hosts: filtered.length,
      ...(ask.regionName === undefined ? {} : { region: ask.regionName }),
      ...(ask.clusterName === undefined ? {} : { cluster: ask.clusterName }),
      message,
    };
  },
} satisfies Checker;
