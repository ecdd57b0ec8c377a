// The few error classes berth throws; each carries the HTTP status and the stable code the
// API returns as `{ "error": { code, message, details } }`.

export type ErrorCode =
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'unschedulable'
  | 'unauthorized'
  | 'forbidden'
  | 'quota_exceeded'
  | 'unavailable'
  | 'internal';

export class BerthError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: unknown } } {
    return {
      error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) },
    };
  }
}

/** Bad input: names the field, the value and the fix. */
export class ValidationError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('validation', 400, message, details);
  }
}

export class NotFoundError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('not_found', 404, message, details);
  }
}

/** Optimistic concurrency: the stream moved on since it was read. */
export class ConflictError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('conflict', 409, message, details);
  }
}

/** No host can take the work; details carry the scheduler's structured reasons. */
export class UnschedulableError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('unschedulable', 422, message, details);
  }
}

export class UnauthorizedError extends BerthError {
  constructor(message = 'a valid bearer token is required; pass --token or set BERTH_TOKEN', details?: unknown) {
    super('unauthorized', 401, message, details);
  }
}

export class ForbiddenError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('forbidden', 403, message, details);
  }
}

/** A tenant's quota would be exceeded (403, as Kubernetes answers a quota breach). */
export class QuotaError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('quota_exceeded', 403, message, details);
  }
}

/** The control plane (or a dependency it needs) cannot answer now; retry with backoff. */
export class UnavailableError extends BerthError {
  constructor(message: string, details?: unknown) {
    super('unavailable', 503, message, details);
  }
}

/** A bug or broken infrastructure on the server; the message never carries internals. */
export class InternalError extends BerthError {
  constructor(message = 'internal error; the server log has the cause', details?: unknown) {
    super('internal', 500, message, details);
  }
}
