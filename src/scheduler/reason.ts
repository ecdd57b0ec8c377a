// Why a request could not be placed: one structured reason per checker that filtered hosts,
// in pipeline order, each with a sentence for people (`message`).
import type { HostState } from './fleet.js';

export type Reason =
  | { checker: 'schedulable'; hosts: number; states: Partial<Record<HostState, number>>; message: string }
  | { checker: 'placement'; hosts: number; region?: string; cluster?: string; message: string }
  | { checker: 'labels'; hosts: number; labels: Record<string, string>; message: string }
  | { checker: 'volume'; hosts: number; volume: string; host: string; message: string }
  | { checker: 'memory'; resource: 'memory'; hosts: number; requested: number; largestFree: number; message: string }
  | { checker: 'cpu'; resource: 'cpu'; hosts: number; requested: number; largestFree: number; message: string }
  | { checker: 'ports'; hosts: number; ports: number[]; message: string }
  | { checker: 'fleet'; hosts: 0; message: string };
