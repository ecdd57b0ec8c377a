import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'examples/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // vitest's default is one worker per core but one, so a single file at a time on two cores.
    // The suite mostly waits (on sockets, timers, child processes and the database), so two files
    // at once on two cores halve CI's time; each Postgres test file has a database of its own
    // (src/store/test-database.fixture.ts).
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
