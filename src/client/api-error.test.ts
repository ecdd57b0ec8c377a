import { describe, expect, it } from 'vitest';
import { ConflictError, ForbiddenError, UnavailableError, ValidationError } from '../core/errors.js';
import { errorFromResponse } from './api-error.js';

describe('errorFromResponse', () => {
  it('rebuilds the BerthError the server threw, with its details', () => {
    const error = errorFromResponse(409, { error: { code: 'conflict', message: 'stream moved on', details: { streamId: 'service-web' } } }, 'POST /v1/x');
    expect(error).toBeInstanceOf(ConflictError);
    expect(error).toMatchObject({ status: 409, message: 'stream moved on', details: { streamId: 'service-web' } });
    expect(errorFromResponse(403, { error: { code: 'forbidden', message: 'no' } }, 'GET /')).toBeInstanceOf(ForbiddenError);
  });

  it('keeps the status the server sent when it differs from the class default', () => {
    const error = errorFromResponse(413, { error: { code: 'validation', message: 'body: too large' } }, 'POST /');
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.status).toBe(413);
  });

  it('says when the answer is not from berth', () => {
    expect(errorFromResponse(502, '<html>bad gateway</html>', 'GET /v1/health')).toBeInstanceOf(UnavailableError);
    expect(errorFromResponse(404, 'Not Found', 'GET /v1/health').message).toMatch(/without a berth error body: Not Found; is the URL a berth control plane\?/);
  });
});
