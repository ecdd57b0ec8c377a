// An assignment set's version as it travels: the log position `<txId>.<globalPosition>`.
import type { LogPosition } from '../store/log-position.js';

export const formatVersion = (p: LogPosition): string => `${p.txId}.${p.globalPosition}`;

export function parseVersion(text: string): LogPosition | undefined {
  const match = /^(\d+)\.(\d+)$/.exec(text);
  if (!match) return undefined;
  return { txId: Number(match[1]), globalPosition: Number(match[2]) };
}
