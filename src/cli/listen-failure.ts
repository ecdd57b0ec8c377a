// A listener that could not bind, said as one line naming the flag the user wrote and the fix:
// the same words for every listening flag of berth edge, berth server and berth up.
import { ValidationError } from '../core/errors.js';

/** What failed to bind: the edge's EdgeListenError and the API's ApiListenError both carry it. */
export interface BindFailure {
  readonly address: { readonly host: string; readonly port: number };
  /** Node's error; `code` is its errno code */
  readonly cause: NodeJS.ErrnoException;
}

/** The command whose flag it was, for the parts of the fix that differ between commands. */
export interface ListeningCommand {
  /** who needs root for a port below 1024 */
  readonly name: string;
  /** how its flags spell every address: `''` for `:8080` (berth edge), `'0.0.0.0'` where `:7070` means 127.0.0.1 */
  readonly everyHost: string;
}

export const BERTH_EDGE: ListeningCommand = { name: 'berth edge', everyHost: '' };
export const BERTH_UP: ListeningCommand = { name: 'berth up', everyHost: '0.0.0.0' };
export const BERTH_SERVER: ListeningCommand = { name: 'berth server', everyHost: '0.0.0.0' };

/** What a listener's bind failure means for the person who wrote `flag text`, and the fix. */
export function listenFailure(flag: string, text: string, error: BindFailure, command: ListeningCommand = BERTH_EDGE): ValidationError {
  const { host, port } = error.address;
  const all = `${command.everyHost}:${port} for every address`;
  const why = ((): string => {
    switch (error.cause.code) {
      case 'EADDRINUSE':
        return 'the port is in use; stop what holds it or pick another port';
      case 'EACCES':
        return port < 1024
          ? `this user may not listen on port ${port} (below 1024); pick a port above 1023, or run ${command.name} as root or with the CAP_NET_BIND_SERVICE capability`
          : `this user may not listen on port ${port}; pick another port`;
      case 'EADDRNOTAVAIL':
        return `this machine has no address ${host}; write one of its addresses, or ${all}`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
      case 'EAI_NONAME':
        return `the host "${host}" does not resolve; write an address of this machine, or ${all}`;
      default:
        return `cannot listen (${error.cause.message}); pick another address or port`;
    }
  })();
  return new ValidationError(`${flag} ${text}: ${why}`);
}
