// What the edge adds to requests on their way to an instance. X-Forwarded-Proto and -Host are
// the edge's alone (a client could otherwise claim to have come over https); X-Forwarded-For
// keeps what the client sent and gets the address the edge saw appended, as a second field line
// (RFC 9110 §5.3: the same as a comma-separated list).

/** The lines the edge adds, CRLF-terminated, for a client address, scheme and requested host. */
export function forwardedLines(clientAddress: string, proto: string, host: string): string {
  return `X-Forwarded-For: ${clientAddress}\r\nX-Forwarded-Proto: ${proto}\r\n${host === '' ? '' : `X-Forwarded-Host: ${host}\r\n`}`;
}

/** Drops the client's X-Forwarded-Proto and -Host lines from a raw head (rare: clients seldom send them). */
export function stripEdgeSetLines(head: string): string {
  return head.replace(/\r\nX-Forwarded-(?:Proto|Host):[^\r]*/gi, '');
}

/** Client address without the IPv4-mapped prefix Node reports on dual-stack sockets. */
export function clientAddress(address: string | undefined): string {
  if (address === undefined) return '';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
