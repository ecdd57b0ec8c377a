// The few answers the edge gives itself: short, plain, and saying what to do, since whoever
// reads them is debugging a route or waiting out a cold start.
export interface EdgeAnswer {
  readonly status: number;
  readonly body: string;
  readonly retryAfter?: number;
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export const notFound = (host: string, path: string): EdgeAnswer => ({
  status: 404,
  body: `berth edge: no route for ${host === '' ? '(no Host header)' : host}${path}; check the service's http.host and http.path\n`,
});
export const badGateway = (service: string, why: string): EdgeAnswer => ({ status: 502, body: `berth edge: service ${service}: ${why}\n` });
export const gatewayTimeout = (service: string, ms: number): EdgeAnswer => ({
  status: 504,
  body: `berth edge: service ${service} did not answer within ${ms / 1000}s\n`,
});
export const unavailable = (message: string, retryAfter: number): EdgeAnswer => ({ status: 503, body: `berth edge: ${message}\n`, retryAfter });
export const badRequest = (why: string): EdgeAnswer => ({ status: 400, body: `berth edge: bad request: ${why}\n` });

/** An answer as raw bytes; the edge closes the connection after it. */
export function rawAnswer(answer: EdgeAnswer): Buffer {
  const retry = answer.retryAfter === undefined ? '' : `Retry-After: ${answer.retryAfter}\r\n`;
  return Buffer.from(
    `HTTP/1.1 ${answer.status} ${REASONS[answer.status] ?? 'Error'}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(answer.body)}\r\nCache-Control: no-store\r\n${retry}Connection: close\r\n\r\n${answer.body}`,
  );
}
