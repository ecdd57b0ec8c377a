// A host for API tests without processes: enrolls over HTTP, heartbeats whatever instance states
// a test sets, and answers log requests from canned lines, as a real agent would.
import { BerthClient } from '../client/berth-client.js';
import type { TestControlPlane } from './control-plane.fixture.js';
import type { EnrollRequest, HeartbeatRequest, ObservedInstance } from './protocol/agent-protocol.js';

export const testMachine: EnrollRequest['machine'] = {
  physicalMemory: 8 * 2 ** 30,
  reservedMemory: 2 ** 30,
  cores: 4,
  disk: 100 * 2 ** 30,
  driver: 'process',
  memoryEnforcement: 'cgroup-v2',
  capabilities: { adoption: true },
};

export interface FakeAgent {
  readonly hostId: string;
  readonly client: BerthClient;
  /** reports these instances in a heartbeat now */
  report(instances: ObservedInstance[]): Promise<void>;
  /** lines each instance's log holds */
  readonly logs: Map<string, string[]>;
  close(): void;
}

export async function startFakeAgent(cp: TestControlPlane, name: string, extra: Partial<EnrollRequest> = {}): Promise<FakeAgent> {
  const { token } = await cp.admin.createJoinToken();
  const enrolled = await new BerthClient({ url: cp.url, token }).enroll({ name, address: '127.0.0.1', machine: testMachine, ...extra });
  const client = new BerthClient({ url: cp.url, token: enrolled.token });
  const logs = new Map<string, string[]>();
  const stop = new AbortController();
  void (async () => {
    while (!stop.signal.aborted) {
      try {
        const { requests } = await client.logRequests({ wait: 1_000, signal: stop.signal });
        for (const r of requests) {
          const lines = logs.get(r.instance);
          await client.sendLogBatch(r.id, lines === undefined ? { lines: [], error: `instance ${r.instance} is not on this host` } : { lines: r.tail === 0 ? [] : lines.slice(-r.tail), done: !r.follow });
        }
      } catch {
        if (stop.signal.aborted) return;
      }
    }
  })();
  const heartbeat = (instances: ObservedInstance[]): HeartbeatRequest => ({
    usage: { memory: { total: 8 * 2 ** 30, used: 2 ** 30 }, cpu: { cores: 4, millicores: 100 } },
    instances,
    agent: { version: 'test', memoryEnforcement: 'cgroup-v2' },
  });
  return {
    hostId: enrolled.hostId,
    client,
    logs,
    report: async (instances) => void (await client.heartbeat(heartbeat(instances))),
    close: () => stop.abort(),
  };
}
