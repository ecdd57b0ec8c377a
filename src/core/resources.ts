// What an instance asks for and what a host has: memory in bytes (a hard limit) and CPU in
// millicores (oversubscribed; see DESIGN §4).
export interface Resources {
  readonly memory: number;
  readonly cpu: number;
}

export const ZERO: Resources = { memory: 0, cpu: 0 };

export const add = (a: Resources, b: Resources): Resources => ({ memory: a.memory + b.memory, cpu: a.cpu + b.cpu });

export const subtract = (a: Resources, b: Resources): Resources => ({ memory: a.memory - b.memory, cpu: a.cpu - b.cpu });

export const scale = (a: Resources, factor: number): Resources => ({ memory: a.memory * factor, cpu: a.cpu * factor });

/** The first resource of `request` that `free` cannot hold, or undefined when it fits. */
export function shortfall(request: Resources, free: Resources): 'memory' | 'cpu' | undefined {
  if (request.memory > free.memory) return 'memory';
  if (request.cpu > free.cpu) return 'cpu';
  return undefined;
}

export const fits = (request: Resources, free: Resources): boolean => shortfall(request, free) === undefined;
