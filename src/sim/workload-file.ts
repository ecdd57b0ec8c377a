// workload.json (docs/sim.md): services to place, each with a replica count and one shape
// shared by its replicas.
import { z } from 'zod';
import type { PlacementRequest } from '../scheduler/request.js';
import { bytes, cpuField, millicores, portField, readFile, sizeField } from './file-schema.js';

const serviceSchema = z.object({
  name: z.string().min(1),
  replicas: z.number().int().min(0),
  memory: sizeField,
  cpu: cpuField,
  ports: z.array(portField).optional(),
  /** Each replica mounts its own volume, named by `volumeName`. */
  volume: z.string().min(1).optional(),
  region: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

export const workloadFileSchema = z.object({ services: z.array(serviceSchema) });

export type WorkloadFile = z.output<typeof workloadFileSchema>;
export type ServiceEntry = WorkloadFile['services'][number];

export const readWorkloadFile = (json: unknown, file = 'workload.json'): WorkloadFile => readFile(workloadFileSchema, json, file);

/** The volume replica `replica` of a service mounts: `<service>-<volume>-<replica>`. */
export const volumeName = (service: string, volume: string, replica: number): string => `${service}-${volume}-${replica}`;

/** One request per replica; replicas of a service share their resources and constraint objects. */
export function requestsFromWorkload(workload: WorkloadFile): PlacementRequest[] {
  const requests: PlacementRequest[] = [];
  for (const s of workload.services) {
    const resources = { memory: bytes(s.memory), cpu: millicores(s.cpu) };
    const placement =
      s.region === undefined && s.cluster === undefined && s.labels === undefined
        ? undefined
        : {
            ...(s.region === undefined ? {} : { region: s.region }),
            ...(s.cluster === undefined ? {} : { cluster: s.cluster }),
            ...(s.labels === undefined ? {} : { labels: s.labels }),
          };
    for (let replica = 0; replica < s.replicas; replica++) {
      requests.push({
        service: s.name,
        replica,
        resources,
        ...(s.ports === undefined ? {} : { ports: s.ports }),
        ...(s.volume === undefined ? {} : { volume: { name: volumeName(s.name, s.volume, replica) } }),
        ...(placement === undefined ? {} : { placement }),
      });
    }
  }
  return requests;
}
