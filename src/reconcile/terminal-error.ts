// A reconcile that can never succeed for its key as things stand: the loop stops retrying it
// until something about the key changes (an event for it, or the next resync).
export class TerminalError extends Error {
  constructor(message: string, readonly details?: unknown) {
    super(message);
    this.name = 'TerminalError';
  }
}
