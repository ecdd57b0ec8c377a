// The driver contract against the process driver, twice: with the best memory enforcement this
// host allows (cgroup v1 on these machines), and with none, where the driver's RSS watch caps memory.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { removeParent } from '../../cgroup.js';
import { driverContract } from '../../driver.case.js';
import { instanceDir, type InstanceRecord } from './instance-record.js';
import { ProcessDriver } from './process-driver.js';

const cgroupParent = `berth-test-${process.pid}`;

for (const memoryEnforcement of ['auto', 'none'] as const) {
  driverContract({
    name: `process (memory enforcement ${memoryEnforcement})`,
    async open(dataDir, { logRotation }) {
      const driver = await ProcessDriver.open({
        dataDir,
        memoryEnforcement,
        cgroupParent,
        logRotation,
        logCheckInterval: 50,
        rssWatchInterval: 100,
        exitPollInterval: 50,
      });
      return driver;
    },
    async pointAt(dataDir, id, pid) {
      const file = join(instanceDir(dataDir, id), 'instance.json');
      const record = JSON.parse(await readFile(file, 'utf8')) as InstanceRecord;
      if (record.run === undefined) throw new Error(`${file} records no run to point elsewhere`);
      await writeFile(file, JSON.stringify({ ...record, run: { ...record.run, pid } }));
    },
  });
}

// the instances' cgroups went with them; their parent is ours to remove too
afterAll(() => removeParent(cgroupParent));
