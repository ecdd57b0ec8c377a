// Stream ids name the aggregate they hold: `service-<id>`, `host-<id>`, `volume-<id>`, `tenant-<id>`.

export type StreamKind = 'service' | 'host' | 'volume' | 'tenant';

export const streamId = (kind: StreamKind, id: string): string => `${kind}-${id}`;

export const serviceStream = (id: string): string => streamId('service', id);
export const hostStream = (id: string): string => streamId('host', id);
export const volumeStream = (id: string): string => streamId('volume', id);
export const tenantStream = (id: string): string => streamId('tenant', id);

/** The aggregate id inside a stream id (`service-web` -> `web`); ids may themselves contain dashes. */
export function aggregateId(stream: string): string {
  const dash = stream.indexOf('-');
  if (dash < 0) throw new Error(`stream id ${JSON.stringify(stream)} has no kind prefix`);
  return stream.slice(dash + 1);
}
