// An instance with a volume runs where the volume's data lives (DESIGN §4): one host passes.
import { ANY, UNKNOWN } from '../compiled-request.js';
import { HOST_STATES } from '../fleet.js';
import { hosts, type Checker } from './checker.js';

export const volumeLocality = {
  name: 'volume',
  applies: (ask) => ask.volumeHost !== ANY,
  feasible: (host, ask, _state) => host === ask.volumeHost,
  reason: (ask, filtered, state) => {
    const volume = ask.volumeName ?? '';
    const host = ask.volumeHostName ?? '';
    const where =
      ask.volumeHost === UNKNOWN
        ? `host ${host}, which is not in the fleet`
        : `host ${state.hostOf(ask.volumeHost).name} (${HOST_STATES[state.stateCode[ask.volumeHost]!]})`;
    return {
      checker: 'volume',
      hosts: filtered.length,
      volume,
      host,
      message: `volume ${volume} lives on ${where}; ${hosts(filtered.length)} cannot mount it`,
    };
  },
} satisfies Checker;
