// The last route table on disk, so an edge restarted while the control plane is down still
// routes. Written to a temporary file and renamed over the old one: a crash mid-write leaves the
// previous table, never half of one.
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseRouteTable, type RouteTable } from './route-table.js';

export const ROUTE_TABLE_FILE = 'routes.json';

export async function saveRouteTable(dir: string, table: RouteTable): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, ROUTE_TABLE_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  const file = await open(temporary, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(table));
    // on disk before the rename makes it the table, so a power cut cannot leave an empty file
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temporary, path);
}

export type LoadedRouteTable = { ok: true; table: RouteTable } | { ok: false; missing: boolean; message: string };

export async function loadRouteTable(dir: string): Promise<LoadedRouteTable> {
  const path = join(dir, ROUTE_TABLE_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, missing, message: `${path}: ${(error as Error).message}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, missing: false, message: `${path}: not JSON (${(error as Error).message}); delete it, the edge fetches a new table` };
  }
  const parsed = parseRouteTable(data);
  return parsed.ok ? parsed : { ok: false, missing: false, message: `${path}: ${parsed.message}; delete it, the edge fetches a new table` };
}
