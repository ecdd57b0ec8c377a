// An API error response turned back into the BerthError the server threw, so callers of the
// client handle failures the same way as callers of the core (instanceof, code, status).
import {
  BerthError,
  ConflictError,
  ForbiddenError,
  InternalError,
  NotFoundError,
  QuotaError,
  UnauthorizedError,
  UnavailableError,
  UnschedulableError,
  ValidationError,
  type ErrorCode,
} from '../core/errors.js';
import type { ErrorBody } from '../api/protocol/error-body.js';

const CLASSES: Partial<Record<ErrorCode, new (message: string, details?: unknown) => BerthError>> = {
  validation: ValidationError,
  not_found: NotFoundError,
  conflict: ConflictError,
  unschedulable: UnschedulableError,
  unauthorized: UnauthorizedError,
  forbidden: ForbiddenError,
  quota_exceeded: QuotaError,
  unavailable: UnavailableError,
  internal: InternalError,
};

export function errorFromResponse(status: number, body: unknown, what: string): BerthError {
  // Checked by hand, not with the zod schema: the agent loads this module, and zod alone would
  // add a sixth of its memory budget.
  if (!isErrorBody(body)) {
    // Not berth answering (a proxy, a wrong URL): say so rather than guess.
    const text = typeof body === 'string' ? body.slice(0, 200) : '';
    if (status === 502 || status === 503 || status === 504) return new UnavailableError(`${what}: the control plane is unavailable (HTTP ${status}); retry shortly`);
    return new BerthError(status >= 500 ? 'internal' : 'validation', status, `${what}: HTTP ${status} without a berth error body${text ? `: ${text}` : ''}; is the URL a berth control plane?`);
  }
  const { code, message, details } = body.error;
  const Known = CLASSES[code as ErrorCode];
  const error = Known ? new Known(message, details) : new BerthError(code as ErrorCode, status, message, details);
  // The class's default status may differ (a 413 validation error): keep the one the server sent.
  return error.status === status ? error : Object.assign(error, { status });
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== 'object' || body === null || !('error' in body)) return false;
  const error = body.error;
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && 'message' in error && typeof error.message === 'string';
}

/** The error an unsuccessful response carries: its body read, as JSON where it is, then errorFromResponse. */
export async function errorOfResponse(response: { readonly status: number; text(): Promise<string> }, what: string): Promise<BerthError> {
  const text = await response.text().catch(() => '');
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: errorFromResponse says what answered
  }
  return errorFromResponse(response.status, parsed, what);
}
