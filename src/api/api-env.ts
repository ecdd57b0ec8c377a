// What every route handler finds on its context.
import type { Logger } from 'pino';
import type { Principal } from './token-store.js';

export interface ApiEnv {
  Variables: {
    /** set by `authenticate` on routes that require a token */
    principal: Principal;
    log: Logger;
  };
}
