// fleet.json (docs/sim.md): the hosts of a simulated fleet, its clusters, volumes and the
// instances already running. Sizes are strings (`64Gi`) or bytes; CPU is cores or `250m`.
import { z } from 'zod';
import type { Fleet } from '../scheduler/fleet.js';
import { bytes, cpuField, millicores, portField, readFile, sizeField } from './file-schema.js';

const hostSchema = z.object({
  id: z.string().min(1),
  name: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  region: z.string().min(1),
  labels: z.record(z.string(), z.string()).optional(),
  state: z.enum(['schedulable', 'cordoned', 'draining', 'lost', 'decommissioned']).optional(),
  memory: sizeField,
  reserved: sizeField.optional(),
  safety_buffer: sizeField.optional(),
  cores: z.number().positive(),
  ports: z.array(portField).optional(),
});

const placementFields = {
  region: z.string().min(1).optional(),
  cluster: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
};

const instanceSchema = z.object({
  id: z.string().min(1),
  service: z.string().min(1),
  replica: z.number().int().min(0).optional(),
  host: z.string().min(1),
  memory: sizeField,
  cpu: cpuField,
  ports: z.array(portField).optional(),
  volume: z.string().min(1).optional(),
  ...placementFields,
});

export const fleetFileSchema = z.object({
  clusters: z
    .array(
      z.object({
        name: z.string().min(1),
        cpu_overcommit_ratio: z.number().positive().optional(),
        strategy: z.enum(['binpack', 'spread']).optional(),
      }),
    )
    .optional(),
  hosts: z.array(hostSchema).superRefine((hosts, ctx) => {
    const seen = new Set<string>();
    hosts.forEach((host, i) => {
      if (seen.has(host.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${host.id}" appears twice; host ids must be unique` });
      seen.add(host.id);
    });
  }),
  volumes: z.array(z.object({ name: z.string().min(1), host: z.string().min(1) })).optional(),
  instances: z.array(instanceSchema).optional(),
});

export type FleetFile = z.output<typeof fleetFileSchema>;
export type HostEntry = FleetFile['hosts'][number];
export type InstanceEntry = NonNullable<FleetFile['instances']>[number];

export const readFleetFile = (json: unknown, file = 'fleet.json'): FleetFile => readFile(fleetFileSchema, json, file);

/** The scheduler's model of a fleet file. */
export function fleetFromFile(file: FleetFile): Fleet {
  return {
    clusters: (file.clusters ?? [{ name: 'default' }]).map((c) => ({
      name: c.name,
      ...(c.cpu_overcommit_ratio === undefined ? {} : { cpuOvercommitRatio: c.cpu_overcommit_ratio }),
      ...(c.strategy === undefined ? {} : { strategy: c.strategy }),
    })),
    hosts: file.hosts.map((h) => ({
      id: h.id,
      name: h.name ?? h.id,
      ...(h.cluster === undefined ? {} : { cluster: h.cluster }),
      region: h.region,
      labels: h.labels ?? {},
      state: h.state ?? 'schedulable',
      memory: {
        physical: bytes(h.memory),
        reserved: h.reserved === undefined ? 0 : bytes(h.reserved),
        safetyBuffer: h.safety_buffer === undefined ? 0 : bytes(h.safety_buffer),
      },
      cores: h.cores,
      ...(h.ports === undefined ? {} : { ports: h.ports }),
    })),
    volumes: file.volumes ?? [],
    instances: (file.instances ?? []).map((i) => ({
      id: i.id,
      service: i.service,
      ...(i.replica === undefined ? {} : { replica: i.replica }),
      host: i.host,
      resources: { memory: bytes(i.memory), cpu: millicores(i.cpu) },
      ...(i.ports === undefined ? {} : { ports: i.ports }),
      ...(i.volume === undefined ? {} : { volume: i.volume }),
      ...(i.region === undefined && i.cluster === undefined && i.labels === undefined
        ? {}
        : {
            placement: {
              ...(i.region === undefined ? {} : { region: i.region }),
              ...(i.cluster === undefined ? {} : { cluster: i.cluster }),
              ...(i.labels === undefined ? {} : { labels: i.labels }),
            },
          }),
    })),
  };
}
